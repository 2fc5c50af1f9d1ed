// The facade: composes the layers (see backend.hpp for the picture) and runs the one loop.
#include "libwatch/watcher.hpp"

#include <utility>

#include "backend.hpp"
#include "inspect.hpp"
#include "move_tracker.hpp"
#include "path_cache.hpp"
#include "reader.hpp"
#include "synthetic.hpp"
#include "tree.hpp"
#include "watch_table.hpp"

namespace libwatch {

// Events delivered between two reads of the kernel while our queue is not empty: the kernel's
// queue (16,384 events by default) has 16 times that room, and one read(2) per 1,024 events does
// not show in the drain benchmark (bench_micro's drain figure is within its noise).
constexpr unsigned kPumpEvery = 1024;

struct Watcher::Impl {
  explicit Impl(WatcherOptions o)
      : opts(o),
        backend(o.backend == BackendKind::inotify
                    ? make_inotify_backend()
                    : make_fanotify_backend(o.backend == BackendKind::fanotify_filesystem, o.lazy_directories)),
        reader(*backend, opts.queue_bytes),
        tree(*backend, table, synth, opts.hide_own_reads),
        tracker(table, tree, opts.move_grace) {
    backend->attach(table);
    if (opts.creation_order) table.keep_order();
    // Pending moves and arrivals hold ids: an id freed (and maybe handed out again) leaves them.
    table.set_free_hook([](void* self, WatchId id) { static_cast<Impl*>(self)->tracker.forget(id); }, this);
    // Long walks keep the kernel's queue from filling.
    tree.walker().set_pump([this] {
      reader.pump();
      return reader.queued_bytes() < opts.queue_bytes;
    });
  }

  const sigset_t* wait_sigmask() const { return opts.wait_sigmask ? &*opts.wait_sigmask : nullptr; }

  WatcherOptions opts;
  std::unique_ptr<Backend> backend;
  WatchTable table;
  SyntheticQueue synth;
  Reader reader;
  Tree tree;
  MoveTracker tracker;
  PathCache paths;
  std::function<PollFd()> idle;
  unsigned since_pump = 0;
};

Watcher::Watcher(WatcherOptions options) : impl_(std::make_unique<Impl>(options)) {}
Watcher::~Watcher() = default;

WatchId Watcher::add(std::string_view path, const AddOptions& options) { return impl_->tree.add(path, options); }

std::optional<Event> Watcher::next(std::optional<Clock::time_point> deadline) {
  Impl& I = *impl_;
  interrupted_ = false;
  // The caller is done with the last event: what it released leaves, what it reported is repaired.
  I.tracker.finish();
  if (I.tracker.take_repair()) I.tree.repair();
  bool final_pass = false;
  for (;;) {
    if (auto s = I.synth.next()) return s;
    // A consumer slower than the events must not leave the kernel's queue unread until ours runs
    // dry: it would overflow behind a full userspace queue.
    if (++I.since_pump >= kPumpEvery) {
      I.since_pump = 0;
      I.reader.pump();
    }
    if (auto raw = I.reader.next()) {
      const MoveTracker::Result r = I.tracker.process(*raw, I.reader.read_time());
      if (r.verdict == MoveTracker::Verdict::skip) continue;
      if (r.verdict == MoveTracker::Verdict::unknown) {
        ++stray_;
        I.tree.stray(raw->wd);
        continue;
      }
      if (r.id == kNoWatch) {
        ++overflows_;
      } else if (I.tracker.arrivals_waiting() && I.reader.empty()) {
        // Every event read so far is applied: a new directory is watched (and scanned) before the
        // caller looks at the watches.
        I.tracker.resolve_arrivals(Clock::now());
      }
      return Event{.watch = r.id, .wd = raw->wd, .mask = raw->mask, .cookie = raw->cookie, .name = raw->name};
    }
    const Clock::time_point now = Clock::now();
    // Everything read so far has been applied, so the table's paths lead where those events
    // meant: the directories that appeared can be looked up on disk.
    if (I.tracker.arrival_due(now)) {
      I.tracker.resolve_arrivals(now);
      continue;
    }
    // After a read that emptied the kernel queue another read would only say EAGAIN: the wait
    // below finds out whether more has come.
    if (!I.reader.drained() && I.reader.pump()) continue;
    // Nothing more has arrived: pending moves whose grace period passed are moves out of the tree.
    I.tracker.expire_moves(now);
    std::optional<Clock::time_point> wake = deadline;
    if (auto due = I.tracker.next_deadline(); due && (!wake || *due < *wake)) wake = due;
    const PollFd also = I.idle ? I.idle() : PollFd{};
    if (std::exchange(interrupt_, false)) {
      interrupted_ = true;
      return std::nullopt;
    }
    switch (I.reader.wait(wake, also, I.wait_sigmask())) {
      case Reader::Wake::events:
        I.reader.pump();
        continue;
      case Reader::Wake::caller:
        continue;
      case Reader::Wake::interrupted:
        interrupted_ = true;
        return std::nullopt;
      case Reader::Wake::timeout:
        if (deadline && Clock::now() >= *deadline) {
          // One more pass first: the verdicts on moves and arrivals that fell due while this
          // thread was not running are applied before the caller looks at the table.
          if (final_pass) return std::nullopt;
          final_pass = true;
        }
        continue;
    }
  }
}

bool Watcher::wait_ready(PollFd fd) {
  Impl& I = *impl_;
  for (;;) {
    // Once the budget is spent the kernel's queue is left to fill (and overflow, reported as usual).
    switch (I.reader.wait(std::nullopt, fd, I.wait_sigmask(), !I.reader.full())) {
      case Reader::Wake::events:
        I.reader.pump();
        continue;
      case Reader::Wake::interrupted:
        return false;
      case Reader::Wake::caller:
      case Reader::Wake::timeout:  // (a failed poll: the caller's next write finds out why)
        return true;
    }
  }
}

void Watcher::append_path(WatchId id, std::string& out) const { impl_->table.append_path(id, out); }
std::string Watcher::path(WatchId id) const { return impl_->table.path(id); }
std::string_view Watcher::cached_path(WatchId id) { return impl_->paths.get(impl_->table, id); }
std::size_t Watcher::watch_count() const noexcept { return impl_->table.size(); }

void Watcher::for_each_watch(const std::function<void(WatchId)>& f) const { impl_->table.for_each(f); }

std::size_t Watcher::watches_under(WatchId id) const {
  const WatchTable& t = impl_->table;
  if (t.find(t.wd(id)) != id) return 0;
  std::size_t n = 0;
  std::vector<WatchId> stack{id};
  while (!stack.empty()) {
    const WatchId cur = stack.back();
    stack.pop_back();
    ++n;
    t.for_each_child(cur, [&](WatchId c) {
      if (t.find(t.wd(c)) == c) stack.push_back(c);
    });
  }
  return n;
}

std::uint32_t Watcher::creation_order(WatchId id) const noexcept { return impl_->table.order(id); }
std::size_t Watcher::id_bound() const noexcept { return impl_->table.id_limit(); }

void Watcher::on_warning(std::function<void(const Warning&)> handler) { impl_->tree.on_warning = std::move(handler); }
void Watcher::on_remove(std::function<void(WatchId)> handler) { impl_->tree.on_remove = std::move(handler); }
void Watcher::on_idle(std::function<PollFd()> handler) { impl_->idle = std::move(handler); }

// ---- detail::Inspect ----

namespace detail {

const WatchTable& Inspect::table(const Watcher& w) { return w.impl_->table; }
int Inspect::kernel_fd(const Watcher& w) { return w.impl_->backend->fd(); }
std::size_t Inspect::queued_bytes(const Watcher& w) { return w.impl_->reader.queued_bytes(); }
bool Inspect::has_pending(Watcher& w) {
  Watcher::Impl& I = *w.impl_;
  return !I.synth.empty() || !I.reader.empty() || I.reader.pump();
}

}  // namespace detail
}  // namespace libwatch
