// inotifywatch: count filesystem events per watched directory, print a table at the end.
// A drop-in for inotify-tools' inotifywatch (see man/inotifywatch.1 for where and why it differs)
// with one addition, --live.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include <libwatch/libwatch.hpp>
#include <toolcommon/filesystems.hpp>
#include <toolcommon/inputs.hpp>
#include <toolcommon/messages.hpp>
#include <toolcommon/progress.hpp>

#include "json_table.hpp"
#include "live.hpp"
#include "options.hpp"
#include "stats.hpp"

namespace inotifywatch {
namespace {

using libwatch::Clock;
using libwatch::kNoWatch;
using toolcommon::Failure;

// ---- signals -----------------------------------------------------------------------------------

volatile std::sig_atomic_t g_setup_interrupts = 0;
volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_print = 0;
volatile std::sig_atomic_t g_resized = 0;

using toolcommon::write_stderr;

// Until the watches are set up there are no statistics yet: the first SIGINT only says so, the
// second one gives up (exit 1), as the reference does. Other signals keep their default action.
extern "C" void on_setup_sigint(int) {
  int saved = errno;
  g_setup_interrupts = g_setup_interrupts + 1;
  if (g_setup_interrupts == 1) {
    write_stderr(
        "No statistics have been collected because I haven't finished establishing\n"
        "inotify watches yet.  If you are sure you want me to exit, interrupt me again.\n");
  } else {
    write_stderr("No statistics collected, asked to abort before all watches could be established.\n");
    ::_exit(1);
  }
  errno = saved;
}

// The write end of a self-pipe: a handler that sets a flag also makes the pipe readable, so that
// a wait that started just after the loop checked the flags ends at once (see SignalWake).
volatile std::sig_atomic_t g_wake_fd = -1;

void wake_loop() {
  const int saved = errno;
  // (A full pipe already wakes the loop: the result does not matter.)
  if (g_wake_fd >= 0 && ::write(g_wake_fd, "", 1) < 0) errno = saved;
  errno = saved;
}

extern "C" void on_stop(int) {
  g_stop = 1;
  wake_loop();
}
extern "C" void on_print(int) {
  g_print = 1;
  wake_loop();
}
extern "C" void on_resize(int) {
  g_resized = 1;
  wake_loop();
}

// The self-pipe the collecting loop's wait also watches: libwatch calls the idle handler right
// before it waits; a flag already set interrupts next() there, one set later makes the pipe
// readable and the wait ends.
class SignalWake {
 public:
  SignalWake() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    read_.reset(fds[0]);
    write_.reset(fds[1]);
    g_wake_fd = write_.get();
  }
  ~SignalWake() { g_wake_fd = -1; }
  SignalWake(const SignalWake&) = delete;
  SignalWake& operator=(const SignalWake&) = delete;

  // Emptied first, then the flags: a signal after that check leaves a byte that ends the wait.
  libwatch::PollFd idle(libwatch::Watcher& w) {
    char buf[64];
    while (::read(read_.get(), buf, sizeof buf) > 0) {
    }
    if (!g_stop && !g_print && !g_resized) return {.fd = read_.get(), .events = POLLIN};
    w.interrupt();
    return {};
  }

 private:
  libwatch::Fd read_, write_;
};

void install(int sig, void (*handler)(int), bool restart) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  // Without SA_RESTART the wait for events returns EINTR, so a signal ends it at once.
  sa.sa_flags = restart ? SA_RESTART : 0;
  ::sigaction(sig, &sa, nullptr);
}

constexpr std::string_view kOverflowWarning =
    "Warning: the event queue overflowed and some events were lost; the statistics are incomplete.\n";

// ---- output ------------------------------------------------------------------------------------

// The table is the whole point of the program: if it cannot be written, say so and exit 1 (a
// reader that went away -- EPIPE with SIGPIPE ignored -- needs no message).
void write_stdout(const std::string& s) {
  if (!s.empty()) std::fwrite(s.data(), 1, s.size(), stdout);
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    int err = errno;
    if (err == EPIPE) throw toolcommon::Failure("", 1);
    throw toolcommon::Failure(fmt::format("Couldn't write statistics: {}\n", toolcommon::error_text(err)), 1);
  }
}

std::string local_timestamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buf, n);
}

bool terminal_size(int& width, int& height) {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0) return false;
  width = ws.ws_col;
  height = ws.ws_row;
  return true;
}

// A terminal that understands cursor addressing: stdout is a tty and TERM is not "dumb".
bool live_terminal() {
  if (!::isatty(STDOUT_FILENO)) return false;
  const char* term = std::getenv("TERM");
  return term && *term && std::string_view(term) != "dumb";
}

// ---- the run -----------------------------------------------------------------------------------

class Run {
 public:
  explicit Run(Options opts) : opts_(std::move(opts)), stats_(opts_.requested()) {}

  int main() {
    // Regular expression first, then inotify, then the list of paths: the reference's order.
    toolcommon::Filter filter(opts_.regex);
    filter_ = std::move(filter);
    prune_ = toolcommon::compile_prune(opts_.prune);
    libwatch::WatcherOptions wopts;
    wopts.backend = opts_.backend;
    wopts.creation_order = true;    // ties in the table sort as the reference's wds
    wopts.lazy_directories = true;  // -S: ready at once whatever the tree size (issue 14)
    watcher_ = toolcommon::make_watcher(wopts);
    toolcommon::WatchList list = toolcommon::build_watch_list(opts_.fromfile, opts_.operands);
    write_stderr(list.diagnostics);
    if (list.paths.empty()) throw Failure(std::string(toolcommon::kNoFilesMessage));

    setup(list);
    collect();
    finish();
    return toolcommon::kExitOk;
  }

 private:
  void setup(const toolcommon::WatchList& list) {
    write_stderr("Establishing watches...\n");
    libwatch::Watcher& w = *watcher_;
    w.on_remove([this](WatchId id) { retire(id); });
    w.on_warning([this](const libwatch::Warning& warning) { warn(warning); });

    const Mask requested = opts_.requested();
    libwatch::AddOptions add;
    add.mask = requested;
    add.recursive = opts_.recursive;
    // The reference follows new directories under -r only through its CREATE / MOVED_TO events,
    // that is when they are in the requested mask (it does not add them to the mask).
    add.track = opts_.recursive && (requested & (IN_CREATE | IN_MOVED_TO)) != 0;
    add.dont_follow = opts_.no_dereference;
    if (opts_.recursive) add.exclude = list.exclusions;
    if (opts_.recursive && !prune_.empty()) add.prune = toolcommon::prune_predicate(prune_);

    // The progress line of a long -r setup, on a terminal only.
    progress_ = toolcommon::SetupProgress(opts_.recursive && toolcommon::SetupProgress::stderr_is_terminal());
    add.progress = [this](std::size_t directories) { progress_.update(directories); };
    std::set<std::string> other_spellings;
    for (const std::string& path : list.paths) {
      progress_.erase();
      if (opts_.recursive && opts_.verbose) write_stderr(fmt::format("Setting up watch(es) on {}\n", path));
      WatchId id = kNoWatch;
      try {
        id = w.add(path, add);
      } catch (const libwatch::WatchError& e) {
        progress_.erase();
        throw Failure(toolcommon::add_error_message(
            e.operand(), e.code().value(),
            {.backend = opts_.backend, .recursive = opts_.recursive, .failed_prefix = true}));
      }
      progress_.erase();
      if (opts_.recursive && opts_.verbose) write_stderr(fmt::format("OK, {} is now being watched.\n", path));
      // The reference counts stored path strings: another spelling of a directory already
      // watched ("./d" after "d") adds its paths although it shares the watches.
      if (opts_.verbose && id != kNoWatch) {
        std::string shown = w.path(id);
        if (shown != path && shown != path + "/" && other_spellings.insert(path).second)
          extra_paths_ += opts_.recursive ? subtree_size(id) : 1;
      }
    }
    progress_.erase();
    for (const std::string& path : list.paths)
      for (const std::string& line : toolcommon::remote_fs_warnings(path, opts_.recursive)) write_stderr(line);
    if (opts_.verbose) write_stderr(fmt::format("Total of {} watches.\n", w.watch_count() + extra_paths_));
    stats_.reserve(w.id_bound());
    // Armed before the line that tells a script it may signal us: a SIGINT right after it must end
    // the collection, not be taken for an impatient one during setup (and then wait for a second).
    arm_stop_signals();
    write_stderr("Finished establishing watches, now collecting statistics.\n");
    if (opts_.verbose && opts_.timeout)
      write_stderr(fmt::format("Will listen for events for {} seconds.\n", opts_.timeout));
  }

  std::size_t subtree_size(WatchId id) const { return watcher_->watches_under(id); }

  void retire(WatchId id) {
    // Keep what the watch counted, under the path it had, for the final table (a row with only
    // zeros is shown with -z only).
    if (!opts_.zero && stats_.counts(id)[0] == 0) {
      stats_.forget(id);
      return;
    }
    stats_.retire(id, watcher_->path(id), watcher_->creation_order(id));
  }

  void warn(const libwatch::Warning& warning) {
    progress_.erase();
    if (auto line = toolcommon::warning_message(warning)) write_stderr(*line);
  }

  void arm_stop_signals() {
    install(SIGINT, on_stop, false);
    install(SIGTERM, on_stop, false);
    install(SIGHUP, on_stop, false);
    install(SIGUSR1, on_print, false);
    if (opts_.timeout) install(SIGALRM, on_stop, false);  // the reference's -t is an alarm(2)
  }

  void collect() {
    const auto start = Clock::now();
    std::optional<Clock::time_point> end;
    if (opts_.timeout) end = start + std::chrono::seconds(opts_.timeout);
    std::optional<Clock::duration> interval;
    if (opts_.live) interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*opts_.live));
    if (interval && live_terminal()) {
      terminal_ = true;
      install(SIGWINCH, on_resize, false);
      write_stdout(std::string(kEnterScreen));
    }
    start_ = start;
    last_frame_ = start;
    Clock::time_point next_frame = start;

    libwatch::Watcher& w = *watcher_;
    SignalWake signals;
    w.on_idle([&] { return signals.idle(w); });
    const Mask requested = opts_.requested();
    std::string scratch;
    for (;;) {
      if (g_stop) break;
      auto now = Clock::now();
      if (end && now >= *end) break;
      if (g_print) {
        g_print = 0;
        if (terminal_)
          draw(now);
        else
          print_snapshot();
      }
      if (interval && (now >= next_frame || g_resized)) {
        g_resized = 0;
        draw(now);
        while (next_frame <= now) next_frame += *interval;
      }
      std::optional<Clock::time_point> wake = end;
      if (interval) wake = wake ? std::min(*wake, next_frame) : next_frame;

      auto ev = w.next(wake);
      if (!ev) continue;
      if (ev->watch == kNoWatch) {
        overflow();
        continue;
      }
      // Entries found by scanning a directory that just appeared (D1) were not seen by the
      // kernel as events: they are not counted (the reference cannot count them either).
      if (ev->synthetic || !counted(ev->mask, requested)) continue;
      if (filter_.active()) {
        scratch.clear();
        w.append_path(ev->watch, scratch);
        scratch.append(ev->name);
        if (!filter_.passes(scratch)) continue;
      }
      stats_.record(ev->watch, ev->mask);
    }
  }

  void overflow() {
    // D4: the reference loses events silently. Say so (worded as inotifywait does), once per
    // overflow; libwatch rescans the trees, so counting goes on with every watch in place.
    write_stderr(kOverflowWarning);
  }

  std::vector<LiveWatch> live_watches() const {
    std::vector<LiveWatch> live;
    live.reserve(watcher_->watch_count());
    watcher_->for_each_watch(
        [&](WatchId id) { live.push_back(LiveWatch{.id = id, .order = watcher_->creation_order(id)}); });
    return live;
  }

  PathFn path_fn() const {
    return [this](WatchId id, std::string& out) { watcher_->append_path(id, out); };
  }

  // The table as the reference prints it at the end, or "No events occurred." (stderr). With
  // --json, the document is printed in both cases (with no rows when nothing was counted).
  bool render_final(std::string& out) const {
    if (stats_.events() == 0 && !opts_.json) return false;
    auto live = live_watches();
    auto rows = stats_.rows(live, opts_.sort, opts_.zero);
    auto cols = stats_.columns(live, opts_.zero);
    if (opts_.json)
      render_json_table(out, stats_, rows, cols, path_fn());
    else
      render_table(out, stats_, rows, cols, path_fn());
    return stats_.events() != 0;
  }

  // SIGUSR1: the table so far, then an empty line (--json: one document per line, nothing else).
  void print_snapshot() {
    std::string out;
    if (!render_final(out)) write_stderr("No events occurred.\n");
    if (!opts_.json) out += '\n';
    write_stdout(out);
  }

  LiveStatus status(Clock::time_point now) {
    LiveStatus s;
    s.elapsed = now - start_;
    s.events = stats_.events();
    double secs = std::chrono::duration<double>(now - last_frame_).count();
    s.rate = secs > 0 ? static_cast<double>(s.events - last_frame_events_) / secs : 0.0;
    s.watches = watcher_->watch_count();
    last_frame_ = now;
    last_frame_events_ = s.events;
    return s;
  }

  void draw(Clock::time_point now) {
    auto live = live_watches();
    auto rows = stats_.rows(live, opts_.sort, opts_.zero);
    auto cols = stats_.columns(live, opts_.zero);
    std::string out;
    if (terminal_) {
      int width = 80;
      int height = 24;
      terminal_size(width, height);
      render_frame(out, status(now), stats_, rows, cols, path_fn(), width, height);
    } else {
      render_log_block(out, local_timestamp(), status(now), stats_, rows, cols, path_fn());
    }
    write_stdout(out);
  }

  void finish() {
    if (terminal_) write_stdout(std::string(kLeaveScreen));
    std::string out;
    if (!render_final(out)) write_stderr("No events occurred.\n");
    write_stdout(out);
  }

  Options opts_;
  Stats stats_;
  toolcommon::Filter filter_;
  toolcommon::RegexList prune_;
  std::unique_ptr<libwatch::Watcher> watcher_;
  toolcommon::SetupProgress progress_{false};  // the setup's progress line (terminal only)
  std::size_t extra_paths_ = 0;
  bool terminal_ = false;
  Clock::time_point start_{};
  Clock::time_point last_frame_{};
  std::uint64_t last_frame_events_ = 0;
};

}  // namespace
}  // namespace inotifywatch

int main(int argc, char** argv) {
  using namespace inotifywatch;
  // From the start, as the reference: a SIGINT while the watch list is read (--fromfile on a
  // pipe) or the watches are set up is answered with the "not finished" message.
  install(SIGINT, on_setup_sigint, true);
  try {
    Options opts = parse_options(argc, argv);
    Run run(std::move(opts));
    return run.main();
  } catch (const toolcommon::Failure& f) {
    write_stderr(f.message());
    return f.status();
  } catch (const std::exception& e) {
    write_stderr(fmt::format("{}\n", e.what()));
    return 1;
  }
}
