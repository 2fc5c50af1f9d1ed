#include "libwatch/watcher.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "libwatch/fd.hpp"

namespace libwatch {
namespace {

// Our own reads of a directory make the kernel report OPEN, ACCESS and CLOSE_NOWRITE on it (and
// on its parent). A walk adds each watch without these bits first and upgrades it after the
// directory and its subtree have been read, so the tool's own reads never appear as events.
constexpr Mask kSelfBits = IN_OPEN | IN_ACCESS | IN_CLOSE_NOWRITE;
// What following a tree needs to hear about (inotify(7), "Dealing with rename() events").
constexpr Mask kTrackBits = IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO;

constexpr std::size_t kChunkBytes = 64 * 1024;
// read(2) on an inotify fd fails with EINVAL unless the buffer can hold the next event whole.
constexpr std::size_t kMinReadRoom = sizeof(inotify_event) + NAME_MAX + 1;
constexpr std::size_t kPoolChunks = 16;
// An unpaired MOVED_FROM also expires once this many later events went by: its partner, if any,
// is queued right after it by the same rename(2).
constexpr std::uint64_t kMoveEventWindow = 4096;

struct Dirent64 {
  std::uint64_t d_ino;
  std::int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

bool is_dot_or_dotdot(const char* n) { return n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0)); }

Mask without_self_bits(Mask m) {
  Mask r = m & ~kSelfBits;
  // inotify_add_watch(2) refuses a mask with no event bit; UNMOUNT is delivered regardless.
  if (!(r & IN_ALL_EVENTS)) r |= IN_UNMOUNT;
  return r;
}

// Errors that mean "this entry is gone or is no longer a directory": skip it quietly.
bool vanished(int err) { return err == ENOENT || err == ENOTDIR || err == ELOOP || err == ESTALE; }
// Errors that no amount of skipping will cure: the walk stops.
bool hard_limit(int err) { return err == ENOSPC || err == EMFILE || err == ENFILE || err == ENOMEM; }

struct Chunk {
  std::unique_ptr<char[]> data;
  std::size_t size = 0;
};

struct RawEvent {
  int wd;
  Mask mask;
  std::uint32_t cookie;
  std::string_view name;
};

// Thrown inside a walk to stop it; carries the errno and where it happened.
struct WalkAbort {
  int error;
  std::string path;
};

}  // namespace

struct Watcher::Impl {
  explicit Impl(WatcherOptions o);
  ~Impl();

  WatcherOptions opts;
  Fd ifd;
  WatchTable table;

  struct Root {
    WatchId id;
    std::string operand;
    AddOptions options;
    Mask kmask;                        // what the kernel is asked for (before IN_ONLYDIR / IN_DONT_FOLLOW)
    bool walked;                       // a directory watched through a walk
    std::vector<std::string> exclude;  // '@' exclusions without their trailing '/'
  };
  std::vector<Root> roots;
  std::unordered_map<WatchId, std::size_t> root_index;
  bool uniform_roots = true;

  // ---- reader thread (shared state under m) ----
  std::mutex m;
  std::condition_variable room_cv;
  std::deque<Chunk> shared;
  std::size_t shared_bytes = 0;
  // The consumer is in its own poll of the kernel (it reads what comes; the reader stays out).
  std::atomic<bool> consumer_waiting{false};
  // When the consumer last took events (from the kernel or from the reader): the reader thread
  // drains the kernel only after the consumer has been away from it for a while.
  std::atomic<std::int64_t> consumer_fetch_ns{0};
  bool stopping = false;
  std::vector<Chunk> pool;
  Fd stop_fd;
  std::thread reader;

  // ---- consumer state ----
  std::deque<Chunk> local;
  std::size_t pos = 0;
  std::uint64_t raw_seq = 0;

  struct Synth {
    WatchId watch;
    int wd;
    Mask mask;
    std::uint32_t name_off;
    std::uint16_t name_len;
  };
  std::vector<Synth> synth;
  std::size_t synth_pos = 0;
  std::string synth_names;

  struct PendingMove {
    std::uint32_t cookie;
    WatchId id;
    Clock::time_point deadline;
    std::uint64_t seq;
  };
  std::vector<PendingMove> moves;

  WatchId release_next = kNoWatch;
  bool rescan_next = false;

  // Directories that appeared (CREATE or MOVED_TO from outside). They enter the table as
  // placeholders and are watched once the events queued before them have been applied: only then
  // does the path the table gives them lead where the event meant (a backlog may hold later
  // renames of the directory itself or of its parents).
  struct Arrival {
    WatchId id;
    std::uint64_t seq;
    Clock::time_point not_before;
    int attempts;
  };
  std::vector<Arrival> arrivals;

  std::function<void(const Warning&)> warn_handler;
  std::function<void(WatchId)> remove_handler;
  std::function<void()> idle_handler;

  // ---- walk state ----
  enum class WalkKind { setup, arrival, rescan };
  struct WalkCtx {
    WalkKind kind;
    const Root* root;
    std::string_view operand;
    const std::vector<std::string>* exclude;  // normalised: no trailing '/'
    bool keep_added;                          // record new entries for a roll-back
  };
  struct Frame {
    int fd;
    WatchId id;
    std::size_t path_len;
    std::size_t child_begin;
    std::size_t child_next;
    std::size_t child_end;
    std::size_t names_size;
    int wd;
    bool upgrade;
    bool is_new;
    bool root;
  };
  // One walk's working state. During a large setup several walkers run at once, each on its own
  // subtrees of the root, sharing the table under a lock.
  struct Walker {
    Impl& I;
    WalkCtx* ctx = nullptr;
    std::mutex* table_lock = nullptr;  // set while walkers run in parallel
    const std::atomic<bool>* stop = nullptr;
    std::string path;  // the directory being visited
    std::vector<char> dents;
    std::string child_names;  // NUL-terminated names of subdirectories to visit
    std::vector<std::pair<std::uint32_t, std::uint16_t>> child_offs;
    std::vector<Frame> stack;
    std::uint32_t order = 0;        // post-order counter
    std::vector<WatchId> added;     // new entries (for a roll-back)
    std::vector<Warning> warnings;  // handed to the caller's handler by its own thread

    explicit Walker(Impl& impl) : I(impl), dents(32 * 1024) {
      // Room for a deep, wide walk up front, allocated by the thread that creates the walker.
      path.reserve(PATH_MAX);
      child_names.reserve(16 * 1024);
      child_offs.reserve(1024);
      stack.reserve(64);
    }
    std::unique_lock<std::mutex> lock_table() {
      return table_lock ? std::unique_lock<std::mutex>(*table_lock) : std::unique_lock<std::mutex>();
    }
    WatchId walk(int pfd, const char* open_name, WatchId parent, std::string_view node_name);
    bool enter(int pfd, const char* open_name, WatchId parent, std::string_view node_name, WatchId* top);
    void run(WatchId* top);
    void read_entries(int fd, WatchId id);
    void finish(const Frame& f);
    bool excluded() const;
    void skip_warning(int err);
  };
  Walker walker{*this};
  std::uint32_t order_seq = 0;
  // Walk a root; the root's subtrees are spread over several threads when there are enough.
  WatchId walk_root(WalkCtx& ctx, const std::string& operand, bool parallel);
  void walk_children_in_parallel(WalkCtx& ctx);
  void flush_warnings(Walker& w);

  // reading
  Chunk new_chunk();
  void recycle(Chunk&& c);
  ssize_t read_kernel(std::deque<Chunk>& into, bool* emptied = nullptr);
  bool take_shared_locked();
  bool fetch_locked();
  bool drained = false;           // consumer: its last read left the kernel queue empty
  Clock::time_point last_wake{};  // consumer: when its last wait ended with events
  enum class Wait { got, timeout, interrupted };
  Wait wait_fetch(std::optional<Clock::time_point> wake);
  std::optional<RawEvent> next_raw();
  void reader_main();

  // bookkeeping
  std::optional<Event> process(const RawEvent& r);
  const Root* root_for(WatchId id) const;
  void note_arrival(WatchId parent, std::string_view name);
  enum class Resolve { done, retry };
  Resolve resolve(WatchId placeholder, const Root& root, bool last_try);
  void resolve_arrivals(bool all);
  bool arrival_ready(Clock::time_point now) const {
    return std::any_of(arrivals.begin(), arrivals.end(), [&](const Arrival& a) { return a.not_before <= now; });
  }
  Fd open_dir_path(const std::string& p);
  int watch_of(int fd);
  void expire_moves(bool all_due, Clock::time_point now);
  void settle_moves_above(WatchId id);
  void settle_moves(const std::vector<PendingMove>& due);
  void drop_subtree(WatchId id);
  void apply_deferred();
  void rescan();
  void warn(Warning::Kind kind, int err, std::string p);
  void emit_synth(WatchId watch, Mask mask, std::string_view name);

  // walking
  int add_watch(const std::string& p, int fd, Mask mask, bool nofollow, bool prefer_fd = false);
  void upgrade_watch(Walker& w, const std::string& p, int fd, int expect_wd, Mask mask, bool nofollow);
  static bool excluded(const std::vector<std::string>& exclude, const std::string& p);
};

// ======================================================================================
// Construction and the reader thread
// ======================================================================================

Watcher::Impl::Impl(WatcherOptions o) : opts(o), ifd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC), "inotify_init1") {
  // Pending moves and arrivals hold ids; an id freed (and maybe reused) must leave them.
  table.set_free_hook(
      [](void* self, WatchId id) {
        auto* I = static_cast<Impl*>(self);
        std::erase_if(I->moves, [id](const PendingMove& pm) { return pm.id == id; });
        std::erase_if(I->arrivals, [id](const Arrival& a) { return a.id == id; });
      },
      this);
  if (opts.reader_thread) {
    stop_fd = Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd");
    // Signals belong to the caller's thread: the reader blocks them all, so that a signal
    // interrupts the caller's wait (next() then reports interrupted()).
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    try {
      reader = std::thread([this] { reader_main(); });
    } catch (...) {
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      throw;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
}

Watcher::Impl::~Impl() {
  if (reader.joinable()) {
    {
      std::lock_guard l(m);
      stopping = true;
    }
    room_cv.notify_all();
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd.get(), &one, sizeof one);
    reader.join();
  }
}

Chunk Watcher::Impl::new_chunk() {
  // Called with m held, or with no reader thread.
  if (!pool.empty()) {
    Chunk c = std::move(pool.back());
    pool.pop_back();
    c.size = 0;
    return c;
  }
  return Chunk{std::make_unique<char[]>(kChunkBytes), 0};
}

void Watcher::Impl::recycle(Chunk&& c) {
  std::lock_guard l(m);
  if (pool.size() < kPoolChunks) pool.push_back(std::move(c));
}

// One non-blocking read, appended to the last chunk when it has room. Returns the bytes read
// (0 when nothing was there). *emptied: the queue is empty now (a read that leaves room for
// another event has taken everything there was).
ssize_t Watcher::Impl::read_kernel(std::deque<Chunk>& into, bool* emptied) {
  if (into.empty() || kChunkBytes - into.back().size < kMinReadRoom) into.push_back(new_chunk());
  Chunk& c = into.back();
  for (;;) {
    ssize_t n = ::read(ifd.get(), c.data.get() + c.size, kChunkBytes - c.size);
    if (n > 0) {
      c.size += static_cast<std::size_t>(n);
      if (emptied) *emptied = kChunkBytes - c.size >= kMinReadRoom;
      return n;
    }
    if (n < 0 && errno == EINTR) continue;
    if (emptied) *emptied = true;
    return 0;  // EAGAIN (or an error that the next poll will report again)
  }
}

static std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// With m held: take what the reader thread queued.
bool Watcher::Impl::take_shared_locked() {
  if (shared.empty()) return false;
  bool was_full = shared_bytes >= opts.queue_bytes;
  for (auto& c : shared) local.push_back(std::move(c));
  shared.clear();
  shared_bytes = 0;
  if (was_full) room_cv.notify_one();
  consumer_fetch_ns.store(now_ns(), std::memory_order_relaxed);
  return true;
}

// With m held: take what the reader thread queued, or read the kernel directly. Both readers
// hold m while reading, so events stay in the kernel's order.
bool Watcher::Impl::fetch_locked() {
  if (take_shared_locked()) return true;
  bool got = read_kernel(local, &drained) > 0;
  consumer_fetch_ns.store(now_ns(), std::memory_order_relaxed);
  return got;
}

Watcher::Impl::Wait Watcher::Impl::wait_fetch(std::optional<Clock::time_point> wake) {
  {
    std::lock_guard l(m);
    if (take_shared_locked()) return Wait::got;
    // From here on the reader thread leaves the kernel to us: we are the one polling it, so
    // the event reaches us without a hand-over between threads (latency).
    consumer_waiting.store(true, std::memory_order_release);
  }
  for (;;) {
    timespec ts{};
    timespec* tsp = nullptr;
    if (wake) {
      auto left = *wake - Clock::now();
      if (left < Clock::duration::zero()) left = Clock::duration::zero();
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      ts.tv_sec = static_cast<time_t>(ns / 1000000000);
      ts.tv_nsec = static_cast<long>(ns % 1000000000);
      tsp = &ts;
    }
    pollfd p{ifd.get(), POLLIN, 0};
    int r = ::ppoll(&p, 1, tsp, opts.wait_sigmask ? &*opts.wait_sigmask : nullptr);
    int err = errno;
    if (r > 0 && opts.coalesce.count() > 0) {
      // Events are streaming in (the previous wait ended moments ago): let a few more arrive so
      // that they are read, handled and written together. A first event after a quiet spell is
      // taken at once.
      auto now = Clock::now();
      bool streaming = now - last_wake < std::chrono::milliseconds(1);
      last_wake = now;
      if (streaming) {
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(opts.coalesce).count();
        timespec pause{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
        ::nanosleep(&pause, nullptr);
      }
    }
    std::lock_guard l(m);
    if (r < 0 && err == EINTR) {
      consumer_waiting.store(false, std::memory_order_release);
      return Wait::interrupted;
    }
    if (r > 0 && fetch_locked()) {
      consumer_waiting.store(false, std::memory_order_release);
      return Wait::got;
    }
    if (r == 0 || (r < 0 && err != EINTR)) {
      consumer_waiting.store(false, std::memory_order_release);
      return Wait::timeout;
    }
  }
}

// The reader thread does not compete with the consumer for events. While the consumer waits on
// the kernel itself it only wakes every few milliseconds to see whether that is still so (no
// wake-up per event, no hand-over: latency). Once the consumer is busy elsewhere, it watches the
// kernel, and drains it into the shared queue when the consumer has not come for events for a
// couple of milliseconds (its own reader stalled, a long rescan), so that the kernel's queue
// (max_queued_events, 16384 by default) never fills behind a slow consumer.
void Watcher::Impl::reader_main() {
  constexpr int kPeriodMs = 10;
  constexpr std::int64_t kAbsentNs = 2'000'000;
  const timespec nap{0, 1'000'000};
  for (;;) {
    const bool away = !consumer_waiting.load(std::memory_order_acquire);
    pollfd p[2] = {{stop_fd.get(), POLLIN, 0}, {ifd.get(), POLLIN, 0}};
    int r = ::poll(p, away ? 2 : 1, kPeriodMs);
    if (r < 0 && errno != EINTR) return;
    if (p[0].revents) return;  // stopping
    if (!away || !(p[1].revents & POLLIN) || consumer_waiting.load(std::memory_order_acquire)) continue;
    if (now_ns() - consumer_fetch_ns.load(std::memory_order_relaxed) < kAbsentNs) {
      ::nanosleep(&nap, nullptr);  // the consumer is at work and will come for them
      continue;
    }
    {
      std::unique_lock l(m);
      if (stopping) return;
      if (consumer_waiting.load(std::memory_order_relaxed)) continue;
      if (shared_bytes >= opts.queue_bytes) {
        // Full: stop draining. The kernel queue fills next and reports IN_Q_OVERFLOW, which is
        // delivered and repaired like any other overflow.
        room_cv.wait(l, [this] { return stopping || shared_bytes < opts.queue_bytes; });
        continue;
      }
      bool emptied = false;
      for (int i = 0; i < 64 && shared_bytes < opts.queue_bytes && !emptied; ++i) {
        ssize_t n = read_kernel(shared, &emptied);
        if (n <= 0) break;
        shared_bytes += static_cast<std::size_t>(n);
      }
      if (!shared.empty() && shared.back().size == 0) {
        pool.push_back(std::move(shared.back()));
        shared.pop_back();
      }
    }
    ::nanosleep(&nap, nullptr);  // let events accumulate: large reads, few wake-ups
  }
}

std::optional<RawEvent> Watcher::Impl::next_raw() {
  while (!local.empty()) {
    Chunk& c = local.front();
    if (pos + sizeof(inotify_event) <= c.size) {
      inotify_event hdr;
      std::memcpy(&hdr, c.data.get() + pos, sizeof hdr);
      const char* name = c.data.get() + pos + sizeof hdr;
      pos += sizeof hdr + hdr.len;
      return RawEvent{hdr.wd, hdr.mask, hdr.cookie, std::string_view(name, ::strnlen(name, hdr.len))};
    }
    if (local.size() == 1) {
      // Keep the last chunk for the next read; the previous event is no longer referenced.
      c.size = 0;
      pos = 0;
      return std::nullopt;
    }
    Chunk done = std::move(c);
    local.pop_front();
    pos = 0;
    recycle(std::move(done));
  }
  return std::nullopt;
}

// ======================================================================================
// The walk
// ======================================================================================

int Watcher::Impl::add_watch(const std::string& p, int fd, Mask mask, bool nofollow, bool prefer_fd) {
  if (p.size() < PATH_MAX && !(prefer_fd && fd >= 0)) {
    int wd = ::inotify_add_watch(ifd.get(), p.c_str(), mask | (nofollow ? IN_DONT_FOLLOW : 0));
    if (wd >= 0 || fd < 0 || !(vanished(errno) || errno == ENAMETOOLONG)) return wd;
    // Renamed since we opened it: the open descriptor still names the right directory.
  }
  if (fd < 0) {
    errno = ENAMETOOLONG;
    return -1;
  }
  // Deeper than PATH_MAX, renamed, or exactness wanted: watch the directory we hold open.
  // /proc/self/fd/N is a link to it; following it is the point, so no IN_DONT_FOLLOW here.
  char proc[64];
  std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  return ::inotify_add_watch(ifd.get(), proc, mask);
}

// Give a watch its full mask. By path (after close, so that the close is not reported); if the
// path no longer leads to that directory, the call may have created a stray watch: remove it.
void Watcher::Impl::upgrade_watch(Walker& w, const std::string& p, int fd, int expect_wd, Mask mask, bool nofollow) {
  int wd = add_watch(p, fd, mask, nofollow);
  if (wd >= 0 && wd != expect_wd) {
    auto l = w.lock_table();
    if (table.find(wd) == kNoWatch) ::inotify_rm_watch(ifd.get(), wd);
  }
}

bool Watcher::Impl::excluded(const std::vector<std::string>& exclude, const std::string& p) {
  for (const auto& e : exclude)
    if (e == p) return true;
  return false;
}

bool Watcher::Impl::Walker::excluded() const { return ctx->exclude && Impl::excluded(*ctx->exclude, path); }

void Watcher::Impl::Walker::skip_warning(int err) {
  if (vanished(err)) return;  // gone or replaced since we listed it: nothing to say
  std::string shown = path;
  shown += '/';
  warnings.push_back(Warning{Warning::Kind::unreadable_subdir, err, std::move(shown)});
}

void Watcher::Impl::emit_synth(WatchId watch, Mask mask, std::string_view name) {
  auto off = static_cast<std::uint32_t>(synth_names.size());
  synth_names.append(name);
  synth.push_back(Synth{watch, table.wd(watch), mask, off, static_cast<std::uint16_t>(name.size())});
}

void Watcher::Impl::flush_warnings(Walker& w) {
  std::vector<Warning> ws;
  ws.swap(w.warnings);
  if (warn_handler)
    for (const auto& x : ws) warn_handler(x);
}

void Watcher::Impl::Walker::read_entries(int fd, WatchId id) {
  for (;;) {
    long n = ::syscall(SYS_getdents64, fd, dents.data(), dents.size());
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // end, or the directory went away while we read it (ENOENT)
    }
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<Dirent64*>(dents.data() + off);
      off += d->d_reclen;
      const char* name = d->d_name;
      if (is_dot_or_dotdot(name)) continue;
      unsigned type = d->d_type;
      if (type == DT_UNKNOWN) {
        // Only some file systems leave d_type out; ask them, without following links.
        struct stat st;
        if (::fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
      }
      std::size_t len = std::strlen(name);
      if (ctx->kind == WalkKind::arrival)
        I.emit_synth(id, type == DT_DIR ? (IN_CREATE | IN_ISDIR) : IN_CREATE, std::string_view(name, len));
      if (type == DT_DIR) {
        child_offs.emplace_back(static_cast<std::uint32_t>(child_names.size()), static_cast<std::uint16_t>(len));
        child_names.append(name, len + 1);
      }
    }
  }
}

// Open a directory, watch it, read its entries and push it on the stack. False when skipped.
bool Watcher::Impl::Walker::enter(int pfd, const char* open_name, WatchId parent, std::string_view node_name,
                                  WatchId* top) {
  if (stop && stop->load(std::memory_order_relaxed)) throw WalkAbort{ECANCELED, path};
  const bool is_root = parent == kNoWatch;
  int fd = ::openat(pfd, open_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (is_root ? 0 : O_NOFOLLOW));
  if (fd < 0) {
    int err = errno;
    if (is_root || hard_limit(err)) throw WalkAbort{err, path};
    skip_warning(err);
    return false;
  }
  const Mask full = ctx->root->kmask | IN_ONLYDIR;
  const bool upgrade = I.opts.hide_own_reads && (full & kSelfBits);
  // A directory that appeared at run time is watched through its descriptor: the path may already
  // lead elsewhere. The initial walk takes the faster path lookup.
  int wd = I.add_watch(path, fd, upgrade ? without_self_bits(full) : full, !is_root, ctx->kind == WalkKind::arrival);
  if (wd < 0) {
    int err = errno;
    ::close(fd);
    if (is_root || hard_limit(err)) throw WalkAbort{err, path};
    skip_warning(err);
    return false;
  }
  bool existed;
  WatchId id;
  {
    auto l = lock_table();
    existed = I.table.find(wd) != kNoWatch;
    id = is_root ? I.table.add_root(wd, node_name, true) : I.table.add_child(wd, parent, node_name);
    // A directory we already watch, found by a scan: the disk is right about where it is (it was
    // renamed while events were lost, or moved into a directory that had no watch yet).
    if (existed && ctx->kind != WalkKind::setup && !is_root && !I.table.is_root(id))
      I.table.move(id, parent, node_name);
    I.table.mark(id);
  }
  if (*top == kNoWatch) *top = id;
  if (existed && ctx->kind != WalkKind::rescan) {
    // Already watched (another operand, or a directory that came back): one walk is enough.
    ::close(fd);
    if (upgrade) I.upgrade_watch(*this, path, -1, wd, full, !is_root);
    return false;
  }
  if (!existed && ctx->keep_added) added.push_back(id);
  std::size_t names_size = child_names.size();
  std::size_t begin = child_offs.size();
  read_entries(fd, id);
  stack.push_back(
      Frame{fd, id, path.size(), begin, begin, child_offs.size(), names_size, wd, upgrade, !existed, is_root});
  return true;
}

void Watcher::Impl::Walker::finish(const Frame& f) {
  path.resize(f.path_len);
  const Mask full = ctx->root->kmask | IN_ONLYDIR;
  if (f.upgrade && path.size() >= PATH_MAX) {
    I.add_watch(path, f.fd, full, false);  // only the descriptor can name it
    ::close(f.fd);
  } else {
    ::close(f.fd);
    if (f.upgrade) I.upgrade_watch(*this, path, -1, f.wd, full, !f.root);
  }
  // Post-order, like the reference's watch descriptors: inotifywatch sorts ties by it.
  if (f.is_new) {
    auto l = lock_table();
    I.table.set_order(f.id, ++order);
  }
  child_offs.resize(f.child_begin);
  child_names.resize(f.names_size);
}

// Continue the walk on the stack until it is empty.
void Watcher::Impl::Walker::run(WatchId* top) {
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.child_next < f.child_end) {
      auto [off, len] = child_offs[f.child_next++];
      const int dir_fd = f.fd;
      const WatchId dir_id = f.id;
      path.resize(f.path_len);
      if (path.empty() || path.back() != '/') path += '/';
      path.append(child_names.data() + off, len);
      if (excluded()) continue;
      // child_names may grow while we enter the child: copy the name out first (on the stack:
      // a walker on a helper thread should not need a heap of its own).
      char name[NAME_MAX + 1];
      std::memcpy(name, child_names.data() + off, len);
      name[len] = 0;
      enter(dir_fd, name, dir_id, std::string_view(name, len), top);
      continue;
    }
    Frame done = f;
    stack.pop_back();
    finish(done);
  }
}

WatchId Watcher::Impl::Walker::walk(int pfd, const char* open_name, WatchId parent, std::string_view node_name) {
  WatchId top = kNoWatch;
  try {
    enter(pfd, open_name, parent, node_name, &top);
    run(&top);
  } catch (...) {
    for (auto it = stack.rbegin(); it != stack.rend(); ++it) ::close(it->fd);
    stack.clear();
    child_offs.clear();
    child_names.clear();
    throw;
  }
  return top;
}

WatchId Watcher::Impl::walk_root(WalkCtx& ctx, const std::string& operand, bool parallel) {
  Walker& w = walker;
  w.ctx = &ctx;
  w.order = order_seq;
  w.path = operand;
  if (w.path.empty() || w.path.back() != '/') w.path += '/';
  WatchId top = kNoWatch;
  try {
    if (w.enter(AT_FDCWD, operand.c_str(), kNoWatch, operand, &top)) {
      const Frame& f = w.stack.back();
      // Below this many subdirectories a second thread costs more than it saves.
      constexpr std::size_t kParallelMin = 8;
      if (parallel && f.child_end - f.child_begin >= kParallelMin && std::thread::hardware_concurrency() > 1)
        walk_children_in_parallel(ctx);
      w.run(&top);
    }
  } catch (...) {
    for (auto it = w.stack.rbegin(); it != w.stack.rend(); ++it) ::close(it->fd);
    w.stack.clear();
    w.child_offs.clear();
    w.child_names.clear();
    order_seq = w.order;
    flush_warnings(w);
    throw;
  }
  order_seq = w.order;
  flush_warnings(w);
  return top;
}

// The root has been read (it is the only frame of the main walker). Walk each of its
// subdirectories as one task, on this thread and on helpers, then give the nodes of each task
// their post-order numbers in the order a single walk would have given them.
void Watcher::Impl::walk_children_in_parallel(WalkCtx& ctx) {
  Walker& mw = walker;
  Frame& rf = mw.stack.back();
  struct Task {
    std::string name;
    WatchId top = kNoWatch;
    std::uint32_t count = 0;
  };
  std::vector<Task> tasks;
  for (std::size_t i = rf.child_begin; i < rf.child_end; ++i) {
    auto [off, len] = mw.child_offs[i];
    tasks.push_back(Task{std::string(mw.child_names.data() + off, len)});
  }
  const std::size_t root_len = rf.path_len;
  const int root_fd = rf.fd;
  const WatchId root_id = rf.id;
  std::mutex table_lock;
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> next{0};
  std::mutex error_lock;
  std::optional<WalkAbort> error;

  unsigned helpers = std::min(3u, std::thread::hardware_concurrency() - 1);
  std::vector<std::unique_ptr<Walker>> walkers;
  for (unsigned i = 0; i <= helpers; ++i) {
    walkers.push_back(std::make_unique<Walker>(*this));
    Walker& w = *walkers.back();
    w.ctx = &ctx;
    w.table_lock = &table_lock;
    w.stop = &stop;
  }
  auto work = [&](Walker& w) {
    for (;;) {
      std::size_t i = next.fetch_add(1);
      if (i >= tasks.size() || stop.load()) return;
      Task& t = tasks[i];
      w.path.assign(mw.path, 0, root_len);
      if (w.path.empty() || w.path.back() != '/') w.path += '/';
      w.path += t.name;
      if (w.excluded()) continue;
      w.order = 0;
      try {
        t.top = w.walk(root_fd, t.name.c_str(), root_id, t.name);
      } catch (const WalkAbort& a) {
        if (a.error != ECANCELED) {
          std::lock_guard l(error_lock);
          if (!error) error = a;
        }
        stop = true;
        return;
      }
      t.count = w.order;
    }
  };
  std::vector<std::thread> threads;
  {
    // Signals stay with the caller's thread.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 1; i < walkers.size(); ++i) {
      try {
        threads.emplace_back(work, std::ref(*walkers[i]));
      } catch (const std::system_error&) {
        break;  // no thread: this one does it all
      }
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  work(*walkers[0]);
  for (auto& t : threads) t.join();
  rf.child_next = rf.child_end;  // every subdirectory of the root has been handled

  for (auto& w : walkers) {
    if (ctx.keep_added) mw.added.insert(mw.added.end(), w->added.begin(), w->added.end());
    mw.warnings.insert(mw.warnings.end(), w->warnings.begin(), w->warnings.end());
  }
  if (error) throw *error;
  // Each task numbered its new nodes 1..count in post-order; shift them so that the numbers run
  // on from one task to the next, as in one sequential walk.
  std::uint32_t base = mw.order;
  std::vector<WatchId> todo;
  for (const Task& t : tasks) {
    if (t.top == kNoWatch || t.count == 0) continue;
    todo.assign(1, t.top);
    while (!todo.empty()) {
      WatchId id = todo.back();
      todo.pop_back();
      if (table.order(id) != 0) table.set_order(id, table.order(id) + base);
      table.for_each_child(id, [&](WatchId c) { todo.push_back(c); });
    }
    base += t.count;
  }
  mw.order = base;
}

// ======================================================================================
// Bookkeeping
// ======================================================================================

void Watcher::Impl::warn(Warning::Kind kind, int err, std::string p) {
  if (warn_handler) warn_handler(Warning{kind, err, std::move(p)});
}

const Watcher::Impl::Root* Watcher::Impl::root_for(WatchId id) const {
  if (roots.empty()) return nullptr;
  if (uniform_roots) return &roots.front();
  WatchId top = id;
  for (WatchId p = table.parent(top); p != kNoWatch; p = table.parent(top)) top = p;
  auto it = root_index.find(top);
  return it == root_index.end() ? nullptr : &roots[it->second];
}

// Open a directory without reading it (O_PATH: no events), piece by piece when the path is longer
// than PATH_MAX.
Fd Watcher::Impl::open_dir_path(const std::string& p) {
  if (p.size() < PATH_MAX) return Fd(::open(p.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  Fd holder;
  int cur = AT_FDCWD;
  std::size_t i = 0;
  if (p[0] == '/') {
    holder = Fd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    cur = holder.get();
    i = 1;
  }
  while (i < p.size() && (cur == AT_FDCWD || holder)) {
    std::size_t end = i, last = i;
    while (end < p.size() && end - i < PATH_MAX / 2) {
      std::size_t slash = p.find('/', end);
      if (slash == std::string::npos) slash = p.size();
      last = slash;
      end = slash + 1;
    }
    std::string piece = p.substr(i, last - i);
    holder = Fd(::openat(cur, piece.empty() ? "." : piece.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    cur = holder.get();
    i = end;
  }
  return holder;
}

// The wd of the directory open as fd if we watch it, else -1. Asking to watch it again returns its
// wd and changes nothing (IN_MASK_ADD of a bit every tracked watch has); a watch this creates on a
// directory we do not watch is removed at once.
int Watcher::Impl::watch_of(int fd) {
  int wd = add_watch(std::string(), fd, IN_MASK_ADD | IN_CREATE, false, true);
  if (wd >= 0 && table.find(wd) == kNoWatch) {
    ::inotify_rm_watch(ifd.get(), wd);
    return -1;
  }
  return wd;
}

void Watcher::Impl::note_arrival(WatchId parent, std::string_view name) {
  WatchId known = table.find_child(parent, name);
  if (known != kNoWatch && table.is_placeholder(known)) return;  // already waiting
  // Whatever the table still has under this name is gone in the events' history (deleted or
  // replaced: its IN_IGNORED may still be on its way).
  if (known != kNoWatch) table.unname(known);
  WatchId id = table.add_placeholder(parent, name);
  arrivals.push_back(Arrival{id, raw_seq, Clock::time_point{}, 0});
}

// Watch a directory that appeared, then scan it, reporting every entry already inside (D1),
// recursively. Retry when the parent is not (yet) where the table says.
Watcher::Impl::Resolve Watcher::Impl::resolve(WatchId placeholder, const Root& root, bool last_try) {
  const WatchId parent = table.parent(placeholder);
  std::string leaf(table.name(placeholder));
  std::string& path = walker.path;
  path.clear();
  table.append_path(parent, path);
  const std::size_t parent_len = path.size();
  path.append(leaf);
  if (excluded(root.exclude, path)) {
    table.discard_placeholder(placeholder);
    return Resolve::done;
  }
  // Check that the parent's path leads to the parent's watch before looking inside it.
  Fd pfd = open_dir_path(path.substr(0, parent_len));
  if (!pfd || watch_of(pfd.get()) != table.wd(parent)) {
    if (!last_try) return Resolve::retry;
    table.discard_placeholder(placeholder);
    return Resolve::done;
  }
  table.discard_placeholder(placeholder);
  WalkCtx ctx{WalkKind::arrival, &root, root.operand, &root.exclude, false};
  walker.ctx = &ctx;
  walker.order = order_seq;
  try {
    walker.walk(pfd.get(), leaf.c_str(), parent, leaf);
  } catch (const WalkAbort& a) {
    if (!vanished(a.error)) {  // (vanished: gone before we got to it)
      std::string shown = a.path;
      shown += '/';
      warn(Warning::Kind::new_directory, a.error, std::move(shown));
    }
  }
  order_seq = walker.order;
  flush_warnings(walker);
  return Resolve::done;
}

// all: every arrival (the events before them have been applied); otherwise only those that
// waited for more than a window of events (a stream that never pauses).
void Watcher::Impl::resolve_arrivals(bool all) {
  constexpr int kAttempts = 3;
  auto now = Clock::now();
  std::vector<Arrival> todo;
  todo.swap(arrivals);
  for (std::size_t i = 0; i < todo.size(); ++i) {
    Arrival a = todo[i];
    bool due = all ? a.not_before <= now : raw_seq - a.seq > kMoveEventWindow;
    if (!table.is_placeholder(a.id)) continue;  // resolved through another path, or gone
    WatchId parent = table.parent(a.id);
    if (parent == kNoWatch || table.find(table.wd(parent)) != parent) {
      table.discard_placeholder(a.id);  // its parent is gone
      continue;
    }
    if (!due) {
      arrivals.push_back(a);
      continue;
    }
    const Root* root = root_for(parent);
    if (!root || resolve(a.id, *root, a.attempts + 1 >= kAttempts) == Resolve::done) continue;
    ++a.attempts;
    a.not_before = now + opts.move_grace;
    arrivals.push_back(a);
  }
}

void Watcher::Impl::drop_subtree(WatchId id) {
  table.drop_subtree(id, [this](WatchId w, int wd) {
    if (remove_handler) remove_handler(w);
    ::inotify_rm_watch(ifd.get(), wd);  // its IN_IGNORED then finds no entry and is dropped
  });
}

void Watcher::Impl::expire_moves(bool all_due, Clock::time_point now) {
  std::vector<PendingMove> due;
  for (auto it = moves.begin(); it != moves.end();) {
    if (all_due ? it->deadline <= now : raw_seq - it->seq > kMoveEventWindow) {
      due.push_back(*it);
      it = moves.erase(it);
    } else {
      ++it;
    }
  }
  settle_moves(due);
}

// An event from inside a directory whose MOVED_FROM is still unpaired: the rename that queued the
// MOVED_FROM queued its MOVED_TO right after it (the kernel reports both while the directories
// are locked), so there is none to wait for. The directory left the tree, or went into one we do
// not watch yet (whose scan will find it): decide now, before its events are shown under a path
// that is no longer its own.
void Watcher::Impl::settle_moves_above(WatchId id) {
  std::vector<PendingMove> due;
  for (auto it = moves.begin(); it != moves.end();) {
    bool above = false;
    for (WatchId a = id; a != kNoWatch && !above; a = table.parent(a)) above = a == it->id;
    if (above) {
      due.push_back(*it);
      it = moves.erase(it);
    } else {
      ++it;
    }
  }
  settle_moves(due);
}

void Watcher::Impl::settle_moves(const std::vector<PendingMove>& due) {
  for (const PendingMove& pm : due) {
    WatchId id = pm.id;  // (an id freed meanwhile is not handed out again before this loop ends)
    if (table.is_placeholder(id)) {
      table.discard_placeholder(id);
      continue;
    }
    if (!table.contains(id) || table.wd(id) < 0 || table.find(table.wd(id)) != id) continue;
    // No MOVED_TO in the tree: the directory left it, unless the disk says it is still where the
    // table has it (a later directory scan put it there). Else forget every watch under it.
    Fd fd = open_dir_path(table.path(id));
    if (fd && watch_of(fd.get()) == table.wd(id)) continue;
    drop_subtree(id);
  }
}

std::optional<Event> Watcher::Impl::process(const RawEvent& r) {
  ++raw_seq;
  if (!moves.empty() && raw_seq - moves.front().seq > kMoveEventWindow) expire_moves(false, Clock::now());
  if (!arrivals.empty() && raw_seq - arrivals.front().seq > kMoveEventWindow) resolve_arrivals(false);
  if (r.wd < 0 || is_overflow(r.mask)) {
    // Events were lost. Pending moves can no longer be paired; the rescan puts the table right.
    moves.clear();
    for (const Arrival& a : arrivals) table.discard_placeholder(a.id);  // the rescan finds them
    arrivals.clear();
    rescan_next = true;
    return Event{kNoWatch, -1, r.mask, r.cookie, {}, false};
  }
  WatchId id = table.find(r.wd);
  if (id == kNoWatch) return std::nullopt;  // a watch we already dropped
  // (The directory's own MOVE_SELF, DELETE_SELF and IGNORED are news about it from where it was:
  // shown under that path, as the reference does; the grace period decides.)
  if (!moves.empty() && !(r.mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_IGNORED | IN_UNMOUNT)) &&
      table.under_unnamed(id)) {
    settle_moves_above(id);
    id = table.find(r.wd);
    if (id == kNoWatch) return std::nullopt;  // it left the tree with the directory that moved
  }
  Event ev{id, r.wd, r.mask, r.cookie, r.name, false};
  if (is_ignored(r.mask)) {
    release_next = id;  // after the caller has seen it (and could print its path)
    return ev;
  }
  if (!is_dir(r.mask) || !(r.mask & kTrackBits)) return ev;
  const Root* root = root_for(id);
  if (!root || !root->options.track) return ev;
  if (is_dir_move_from(r.mask)) {
    WatchId child = table.find_child(id, r.name);
    if (child != kNoWatch) {
      // In transit: the name no longer leads to it; its MOVED_TO, if any, places it again.
      table.unname(child);
      moves.push_back(PendingMove{r.cookie, child, Clock::now() + opts.move_grace, raw_seq});
    }
  } else if (is_dir_move_to(r.mask)) {
    auto it = std::find_if(moves.begin(), moves.end(), [&](const PendingMove& pm) { return pm.cookie == r.cookie; });
    if (it != moves.end()) {
      WatchId child = it->id;
      moves.erase(it);
      // A directory renamed over an empty one replaces it.
      if (WatchId victim = table.find_child(id, r.name); victim != kNoWatch && victim != child) {
        if (table.is_placeholder(victim))
          table.discard_placeholder(victim);
        else
          table.unname(victim);
      }
      if (table.contains(child) && table.move(child, id, r.name)) return ev;
    }
    note_arrival(id, r.name);  // moved in from outside: watch and scan
  } else if (is_dir_create(r.mask)) {
    note_arrival(id, r.name);
  }
  return ev;
}

void Watcher::Impl::apply_deferred() {
  if (release_next != kNoWatch) {
    WatchId id = release_next;
    release_next = kNoWatch;
    if (table.contains(id) && table.find(table.wd(id)) == id) {
      if (remove_handler) remove_handler(id);
      table.release(id);
    }
  }
  if (rescan_next) {
    rescan_next = false;
    rescan();
  }
}

// After an overflow: walk every root again so that the table matches the disk. Directories
// that appeared get watches, renamed ones are relabelled, vanished ones are dropped.
void Watcher::Impl::rescan() {
  table.begin_epoch();
  for (auto& root : roots) {
    try {
      if (root.walked) {
        WalkCtx ctx{WalkKind::rescan, &root, root.operand, &root.exclude, false};
        WatchId top = walk_root(ctx, root.operand, false);
        if (top != kNoWatch && top != root.id) {
          root_index.erase(root.id);
          root.id = top;
          root_index[top] = static_cast<std::size_t>(&root - roots.data());
        }
      } else {
        Mask mask = root.kmask | (root.options.dont_follow ? IN_DONT_FOLLOW : 0);
        int wd = ::inotify_add_watch(ifd.get(), root.operand.c_str(), mask);
        if (wd < 0) throw WalkAbort{errno, root.operand};
        struct stat st;
        bool dir = ::lstat(root.operand.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
        WatchId id = table.add_root(wd, root.operand, dir);
        table.mark(id);
        if (id != root.id) {
          root_index.erase(root.id);
          root.id = id;
          root_index[id] = static_cast<std::size_t>(&root - roots.data());
        }
      }
    } catch (const WalkAbort& a) {
      std::string shown = root.operand;
      if (root.walked && (shown.empty() || shown.back() != '/')) shown += '/';
      if (!vanished(a.error)) warn(Warning::Kind::rescan_failed, a.error, std::move(shown));
    }
  }
  std::vector<WatchId> stale;
  table.for_each([&](WatchId id) {
    if (!table.marked(id)) stale.push_back(id);
  });
  for (WatchId id : stale) {
    if (!table.contains(id) || table.find(table.wd(id)) != id) continue;
    if (remove_handler) remove_handler(id);
    ::inotify_rm_watch(ifd.get(), table.wd(id));
    table.release(id);
  }
}

// ======================================================================================
// Watcher
// ======================================================================================

Watcher::Watcher(WatcherOptions options) : impl_(std::make_unique<Impl>(options)) {}
Watcher::~Watcher() = default;

WatchId Watcher::add(std::string_view path_sv, const AddOptions& options) {
  Impl& I = *impl_;
  std::string operand(path_sv);
  Impl::Root root{kNoWatch, operand, options, options.mask | (options.track ? kTrackBits : 0), false, {}};
  for (const auto& e : options.exclude) {
    std::string x = e;
    if (!x.empty() && x.back() == '/') x.pop_back();
    root.exclude.push_back(std::move(x));
  }
  WatchId id = kNoWatch;
  bool file_fallback = !(options.recursive || options.track);
  if (!file_fallback) {
    Impl::WalkCtx ctx{Impl::WalkKind::setup, &root, operand, &root.exclude, true};
    std::string shown = operand;
    if (shown.empty() || shown.back() != '/') shown += '/';
    std::vector<WatchId>& added = I.walker.added;
    added.clear();
    try {
      id = I.walk_root(ctx, operand, true);
      root.walked = true;
      added.clear();
    } catch (const WalkAbort& a) {
      // Nothing half-done: forget (and unwatch) what this call added before failing.
      for (auto it = added.rbegin(); it != added.rend(); ++it) {
        if (!I.table.contains(*it)) continue;
        ::inotify_rm_watch(I.ifd.get(), I.table.wd(*it));
        I.table.release(*it);
      }
      bool nothing_added = added.empty();
      added.clear();
      if (a.error == ENOTDIR && nothing_added) {
        file_fallback = true;  // a file given to -r is watched as a file
      } else {
        // The operand itself, or the directory deeper in the tree where the walk had to stop.
        std::string where = a.path;
        if (where == shown) where = operand;
        throw WatchError(a.error, operand, where);
      }
    }
  }
  if (file_fallback) {
    Mask mask = root.kmask | (options.dont_follow ? IN_DONT_FOLLOW : 0);
    int wd = ::inotify_add_watch(I.ifd.get(), operand.c_str(), mask);
    if (wd < 0) throw WatchError(errno, operand, operand);
    struct stat st;
    bool dir = ::lstat(operand.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    bool existed = I.table.find(wd) != kNoWatch;
    id = I.table.add_root(wd, operand, dir);
    if (!existed) I.table.set_order(id, ++I.order_seq);
  }
  if (id != kNoWatch && !I.root_index.count(id) && I.table.is_root(id)) {
    root.id = id;
    if (!I.roots.empty()) {
      const auto& first = I.roots.front();
      if (first.kmask != root.kmask || first.options.track != root.options.track ||
          first.options.dont_follow != root.options.dont_follow)
        I.uniform_roots = false;
    }
    I.root_index[id] = I.roots.size();
    I.roots.push_back(std::move(root));
  }
  return id;
}

std::optional<Event> Watcher::next(std::optional<Clock::time_point> deadline) {
  Impl& I = *impl_;
  interrupted_ = false;
  I.apply_deferred();
  bool final_pass = false;
  for (;;) {
    if (I.synth_pos < I.synth.size()) {
      const auto& s = I.synth[I.synth_pos++];
      return Event{s.watch, s.wd, s.mask, 0, std::string_view(I.synth_names.data() + s.name_off, s.name_len), true};
    }
    if (!I.synth.empty()) {
      I.synth.clear();
      I.synth_names.clear();
      I.synth_pos = 0;
    }
    if (auto raw = I.next_raw()) {
      if (auto ev = I.process(*raw)) {
        if (ev->watch == kNoWatch) ++overflows_;
        return ev;
      }
      continue;
    }
    // Everything read so far has been applied, so the table's paths lead where those events
    // meant: the directories that appeared can be looked up on disk.
    if (I.arrival_ready(Clock::now())) {
      I.resolve_arrivals(true);
      continue;
    }
    {
      // After a read that emptied the kernel queue, another read would only say EAGAIN: the
      // wait below (poll) finds out whether more has come.
      std::lock_guard l(I.m);
      if (I.take_shared_locked()) continue;
      if (!I.drained && I.fetch_locked()) continue;
    }
    // Nothing more has arrived: pending directory moves whose grace period passed are moves
    // out of the tree.
    auto wake = deadline;
    if (!I.moves.empty()) {
      auto now = Clock::now();
      I.expire_moves(true, now);
      for (const auto& pm : I.moves)
        if (!wake || pm.deadline < *wake) wake = pm.deadline;
    }
    for (const auto& a : I.arrivals) {
      if (!wake || a.not_before < *wake) wake = a.not_before;
    }
    if (I.idle_handler) I.idle_handler();
    switch (I.wait_fetch(wake)) {
      case Impl::Wait::got:
        continue;
      case Impl::Wait::interrupted:
        interrupted_ = true;
        return std::nullopt;
      case Impl::Wait::timeout:
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

bool Watcher::has_pending() {
  Impl& I = *impl_;
  if (I.synth_pos < I.synth.size()) return true;
  if (!I.local.empty()) {
    // Anything left unparsed in the buffered chunks?
    if (I.local.size() > 1 || I.pos + sizeof(inotify_event) <= I.local.front().size) return true;
  }
  std::lock_guard l(I.m);
  return I.fetch_locked();
}

void Watcher::append_path(WatchId id, std::string& out) const { impl_->table.append_path(id, out); }
std::string Watcher::path(WatchId id) const { return impl_->table.path(id); }
const WatchTable& Watcher::table() const noexcept { return impl_->table; }
std::size_t Watcher::watch_count() const noexcept { return impl_->table.size(); }
void Watcher::on_warning(std::function<void(const Warning&)> handler) { impl_->warn_handler = std::move(handler); }
void Watcher::on_remove(std::function<void(WatchId)> handler) { impl_->remove_handler = std::move(handler); }
void Watcher::on_idle(std::function<void()> handler) { impl_->idle_handler = std::move(handler); }
int Watcher::inotify_fd() const noexcept { return impl_->ifd.get(); }

}  // namespace libwatch
