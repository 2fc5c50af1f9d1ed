// A large setup: the root's subdirectories walked as tasks by this thread and a few helpers. The
// thread that owns the Watcher keeps pumping the reader while it waits for the helpers.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "walk_state.hpp"

namespace libwatch {
namespace {

// More threads than this only queue up on the kernel's locks (measured on the setup benchmark).
constexpr unsigned kMaxHelpers = 3;
// How often a caller that asked for progress hears of it while this thread only waits for the
// helpers: a display's refresh rate; without a progress handler the wait has no timeout.
constexpr int kProgressTickMs = 100;

struct Task {
  std::string name;
  WatchId top = kNoWatch;
  std::uint32_t count = 0;  // new entries, numbered 1..count in post-order
};

// Helper threads leave signals to the thread that owns the Watcher.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_;
};

}  // namespace

void Walker::walk_children_in_parallel(Shared& sh, State& mw) {
  State::Frame& rf = mw.stack.back();
  std::vector<Task> tasks;
  tasks.reserve(rf.child_end - rf.child_begin);
  for (std::size_t i = rf.child_begin; i < rf.child_end; ++i) {
    auto [off, len] = mw.child_offs[i];
    tasks.push_back(Task{.name = std::string(mw.child_names.data() + off, len)});
  }
  const std::size_t root_len = rf.path_len;
  const int root_fd = rf.fd.get();
  const WatchId root_id = rf.id;
  std::mutex table_lock;
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> next{0};
  std::mutex error_lock;
  std::optional<WalkAbort> error;
  Shared psh{.owner = *this, .spec = sh.spec, .upgrade = sh.upgrade, .table_lock = &table_lock, .stop = &stop};

  const unsigned helpers = std::min(kMaxHelpers, std::thread::hardware_concurrency() - 1);
  std::vector<std::unique_ptr<State>> states;
  for (unsigned i = 0; i <= helpers; ++i) states.push_back(std::make_unique<State>());
  states[0]->pumps = true;

  auto work = [&](State& w) {
    for (;;) {
      std::size_t i = next.fetch_add(1);
      if (i >= tasks.size() || stop.load()) return;
      Task& t = tasks[i];
      w.path.assign(mw.path, 0, root_len);
      if (w.path.empty() || w.path.back() != '/') w.path += '/';
      w.path += t.name;
      if (w.excluded(psh)) continue;
      w.order = 0;
      WalkResult r = run_walk(psh, w, root_fd, t.name.c_str(), root_id, t.name, false);
      if (r.error) {
        if (r.error != ECANCELED) {
          std::lock_guard l(error_lock);
          if (!error) error = WalkAbort{.error = r.error, .path = r.error_path};
        }
        stop = true;
        return;
      }
      t.top = r.top;
      t.count = w.order;
    }
  };

  // Each helper adds one to done when it ends, so that this thread can pump while it waits.
  Fd done(::eventfd(0, EFD_CLOEXEC));
  std::vector<std::thread> threads;
  if (done) {
    SignalsBlocked blocked;
    for (unsigned i = 1; i < states.size(); ++i) {
      try {
        threads.emplace_back([&, i] {
          work(*states[i]);
          std::uint64_t one = 1;
          [[maybe_unused]] ssize_t n = ::write(done.get(), &one, sizeof one);
        });
      } catch (const std::system_error&) {
        break;  // no thread: this one does it all
      }
    }
  }
  work(*states[0]);
  bool can_pump = true;
  for (std::size_t left = threads.size(); left > 0;) {
    pollfd p[2] = {{.fd = done.get(), .events = POLLIN, .revents = 0},
                   {.fd = backend_.fd(), .events = POLLIN, .revents = 0}};
    const bool ticks = sh.spec.progress && *sh.spec.progress;
    if (::poll(p, can_pump ? 2 : 1, ticks ? kProgressTickMs : -1) < 0) {
      if (errno == EINTR) continue;
      break;  // (join below)
    }
    if (p[1].revents & POLLIN) can_pump = pump();
    report_progress(sh);
    std::uint64_t ended = 0;
    if ((p[0].revents & POLLIN) && ::read(done.get(), &ended, sizeof ended) == sizeof ended) left -= ended;
  }
  for (auto& t : threads) t.join();
  rf.child_next = rf.child_end;  // every subdirectory of the root has been handled

  for (auto& w : states) {
    mw.warnings.insert(mw.warnings.end(), w->warnings.begin(), w->warnings.end());
  }
  if (error) throw *error;
  if (!table_.keeps_order()) return;
  // Each task numbered its new entries 1..count in post-order; shift them so that the numbers run
  // on from one task to the next, as in one sequential walk.
  std::uint32_t base = mw.order;
  std::vector<WatchId> todo;
  for (const Task& t : tasks) {
    if (t.top == kNoWatch || t.count == 0) continue;
    todo.assign(1, t.top);
    while (!todo.empty()) {
      WatchId id = todo.back();
      todo.pop_back();
      if (table_.order(id) != 0) table_.set_order(id, table_.order(id) + base);
      table_.for_each_child(id, [&](WatchId c) { todo.push_back(c); });
    }
    base += t.count;
  }
  mw.order = base;
}

}  // namespace libwatch
