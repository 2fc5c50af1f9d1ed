// inotifybatch: watch a tree and hand its changes out in batches of NUL-separated lists, one
// short line per batch on stdout, so that a shell driver (scripts/inotifysync) never reads an
// event or a path itself. See man/inotifybatch.1.
//
// stdout lines, each flushed at once:
//   ready                  the watches are established (after "Watches established." on stderr)
//   batch N PATHS MOVES    DIR/N.paths and DIR/N.moves are written
//   overflow               events were lost and no snapshot tells what changed: a full sync is needed
//   overflow diffed        events were lost; the snapshot diff follows as a normal batch line
//   snapshot N             the snapshot was taken: N entries (at start, or at SIGUSR1)
//   gone EVENTS            the source itself was deleted, moved or unmounted (exit 2)
//   end                    SIGTERM/SIGINT: the last pending paths went out as a batch (exit 0)
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>
#include <libwatch/libwatch.hpp>
#include <libwatch/watcher.hpp>
#include <toolcommon/filesystems.hpp>
#include <toolcommon/messages.hpp>

#include "batcher.hpp"
#include "lists.hpp"
#include "options.hpp"
#include "patterns.hpp"
#include "snapshot.hpp"

namespace inotifybatch {
namespace {

using libwatch::Mask;
using toolcommon::Failure;

constexpr int kExitGone = 2;
// What can change what rsync must send; the self events are only looked at on the root.
constexpr Mask kMask =
    IN_CREATE | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF;
constexpr Mask kChange = IN_CREATE | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO;
constexpr Mask kRootGone = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT;

volatile sig_atomic_t g_stop = 0;
extern "C" void on_stop(int /*sig*/) { g_stop = 1; }
volatile sig_atomic_t g_snapshot = 0;  // SIGUSR1 with --snapshot-on-signal
extern "C" void on_snapshot(int /*sig*/) { g_snapshot = 1; }

// One line to stdout, written at once (the driver reads it with read -t).
void say(const std::string& line) {
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(1, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Failure("inotifybatch: cannot write to standard output: " + toolcommon::error_text(errno) + "\n");
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

ExcludeRules load_rules(const Options& o) {
  ExcludeRules rules;
  for (const auto& e : o.excludes) rules.add(e);
  for (const auto& f : o.exclude_files)
    if (!rules.add_file(f)) throw Failure(fmt::format("inotifybatch: cannot read exclude file '{}'\n", f));
  return rules;
}

std::string source_dir(std::string s) {
  if (s.empty() || s.back() != '/') s += '/';
  return s;
}

int merge(const Options& o) {
  const std::string source = source_dir(o.operands[0]);
  const std::vector<std::string> batches(o.operands.begin() + 1, o.operands.end());
  try {
    const Merged m = merge_batches(o.merge, source, batches);
    say(fmt::format("merged {} {} {} {} {}\n", m.paths, m.send, m.deleted, m.moves, m.missing));
  } catch (const std::system_error& e) {
    throw Failure(fmt::format("inotifybatch: {}\n", e.what()));
  }
  return 0;
}

class Session {
 public:
  Session(const Options& o, ExcludeRules rules)
      : opts_(o),
        rules_(std::move(rules)),
        batcher_({.delay = o.delay, .max_batch = o.max_batch}),
        snapshot_(source_dir(o.operands[0]), o.snapshot_max,
                  [this](const std::string& rel, bool is_dir) { return rules_.excluded(rel, is_dir); }) {}

  int run() {
    std::string operand = opts_.operands[0];
    while (operand.size() > 1 && operand.back() == '/') operand.pop_back();
    base_ = operand == "/" ? std::string() : operand;

    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGUSR1);
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    sa.sa_handler = on_snapshot;
    ::sigaction(SIGUSR1, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);  // a driver gone shows up as EPIPE on the next line
    ::sigprocmask(SIG_BLOCK, &stop, &old);
    libwatch::WatcherOptions wopts;
    sigdelset(&old, SIGTERM);
    sigdelset(&old, SIGINT);
    sigdelset(&old, SIGUSR1);
    wopts.wait_sigmask = old;
    wopts.backend = opts_.fanotify ? libwatch::BackendKind::fanotify_filesystem : libwatch::BackendKind::inotify;

    libwatch::AddOptions add;
    add.mask = kMask;
    add.recursive = true;
    add.track = true;
    if (rules_.active())
      add.prune = [this](std::string_view path) {
        if (path.size() <= base_.size() + 1) return false;
        return rules_.excluded(path.substr(base_.size() + 1), true);
      };
    toolcommon::write_stderr("Setting up watches.  Beware: since -r was given, this may take a while!\n");
    if (!watch(operand, add, wopts) && toolcommon::filesystem_mark_possible(operand)) {
      // Too big for max_user_watches, and we may place a filesystem mark: it needs no watch per
      // directory, so the same guarantees hold without raising the limit.
      toolcommon::write_stderr(
          fmt::format("inotifybatch: {} needs more inotify watches than max_user_watches allows; watching it with a "
                      "fanotify filesystem mark instead\n",
                      operand));
      wopts.backend = libwatch::BackendKind::fanotify_filesystem;
      if (!watch(operand, add, wopts)) throw Failure(limit_error_);
    } else if (!limit_error_.empty()) {
      throw Failure(limit_error_);
    }
    prefix_ = watcher_->path(root_);
    // Named as given (inotifysync passes "SRC/", as it gave inotifywait before).
    for (const std::string& line : toolcommon::remote_fs_warnings(opts_.operands[0], true))
      toolcommon::write_stderr(line);
    toolcommon::write_stderr("Watches established.\n");
    say("ready\n");
    // The picture the initial full sync sends, taken after the watches: what changes meanwhile
    // has events of its own. With --snapshot-on-signal the driver says when its full sync is
    // done, so that this walk of the whole tree does not compete with that rsync's.
    if (opts_.snapshot_max > 0 && !opts_.snapshot_on_signal) take_snapshot();
    watcher_->on_idle([this] {
      confirmed_ = true;
      if (repair_due_) repair();
      return libwatch::PollFd{};
    });
    return loop();
  }

 private:
  // A fact the driver (and its tests) can wait for.
  void take_snapshot() {
    snapshot_.build();
    confirmed_ = false;
    if (snapshot_.valid()) say(fmt::format("snapshot {}\n", snapshot_.size()));
  }

  int loop() {
    while (true) {
      const auto now = Clock::now();
      if (batcher_.due(now)) cut();
      if (g_stop) {
        if (!batcher_.empty()) cut();
        say("end\n");
        return 0;
      }
      if (g_snapshot) {
        g_snapshot = 0;
        if (opts_.snapshot_max > 0 && !snapshot_.valid()) take_snapshot();
      }
      auto ev = watcher_->next(batcher_.wake_at(now));
      if (!ev) continue;  // a deadline or a signal: looked at above
      if (libwatch::is_overflow(ev->mask)) {
        // Without a snapshot the full sync covers what was pending; with one the pending paths
        // stay (a snapshot taken while they were pending recorded them before they were sent).
        // An overflow before the first idle moment after the snapshot may have lost events of
        // changes the snapshot recorded but nobody sent: it cannot tell, a full sync does.
        if (!confirmed_) snapshot_.drop();
        if (!snapshot_.valid()) batcher_.clear();
        jar_.clear();
        repair_due_ = true;  // once libwatch has rescanned: at the next idle moment
        continue;
      }
      if (ev->name.empty()) {
        if (ev->watch == root_ && (ev->mask & kRootGone) != 0) {
          say(fmt::format("gone {}\n", libwatch::mask_to_text(ev->mask & ~IN_IGNORED).view()));
          return kExitGone;
        }
        continue;  // a subdirectory's own events: its parent reports what matters
      }
      if ((ev->mask & kChange) == 0) continue;
      handle(*ev);
    }
  }

  void handle(const libwatch::Event& ev) {
    const std::string_view dir = watcher_->cached_path(ev.watch);
    if (!dir.starts_with(prefix_)) return;
    rel_.assign(dir.substr(prefix_.size()));
    rel_.append(ev.name);
    const bool is_dir = libwatch::is_dir(ev.mask);
    if (rules_.excluded(rel_, is_dir)) return;
    // Found by scanning a new directory that is pending: rsync -r sends it with the directory
    // (the scan came before the batch is cut; a later change has a kernel event of its own).
    if (ev.synthetic && batcher_.under_pending(rel_)) return;
    if (libwatch::is_move_from(ev.mask)) {
      jar_.moved_from(ev.cookie, rel_);
    } else if (libwatch::is_move_to(ev.mask)) {
      if (auto old = jar_.moved_to(ev.cookie)) batcher_.move(*old, rel_, is_dir);
    }
    batcher_.add(rel_, Clock::now());
  }

  // After an overflow, with the watches repaired: the snapshot's diff as a batch, or a full sync.
  void repair() {
    repair_due_ = false;
    if (!snapshot_.valid()) {
      say("overflow\n");
      // The picture the full sync sends (with --snapshot-on-signal: once it is done).
      if (opts_.snapshot_max > 0 && !opts_.snapshot_on_signal) take_snapshot();
      return;
    }
    const std::vector<std::string> changed = snapshot_.diff();
    if (!snapshot_.valid()) {  // the tree grew over the budget
      say("overflow\n");
      return;
    }
    say("overflow diffed\n");
    const auto now = Clock::now();
    for (const auto& p : changed) batcher_.add(p, now);
    cut(false);  // just recorded by the diff
  }

  void cut(bool record = true) {
    const Taken t = batcher_.take();
    if (record) snapshot_.refresh(t.paths);
    ++number_;
    const std::string prefix = fmt::format("{}/{}", opts_.out, number_);
    if (!write_batch(prefix, t))
      throw Failure(fmt::format("inotifybatch: cannot write {}: {}\n", prefix, toolcommon::error_text(errno)));
    say(fmt::format("batch {} {} {}\n", number_, t.paths.size(), t.moves.size()));
  }

  // A new watcher with wopts, watching operand. False when inotify's watch limit stopped it
  // (limit_error_ then holds the message); any other failure throws.
  bool watch(const std::string& operand, const libwatch::AddOptions& add, const libwatch::WatcherOptions& wopts) {
    watcher_ = toolcommon::make_watcher(wopts);
    watcher_->on_warning([](const libwatch::Warning& w) {
      if (auto line = toolcommon::warning_message(w)) toolcommon::write_stderr(*line);
    });
    const bool filesystem = wopts.backend == libwatch::BackendKind::fanotify_filesystem;
    try {
      root_ = watcher_->add(operand, add);
      limit_error_.clear();
      return true;
    } catch (const libwatch::WatchError& e) {
      const int err = e.code().value();
      // At the watch limit the caller may take a filesystem mark instead: no -S hint here.
      std::string text = toolcommon::add_error_message(
          e.operand(), err, {.backend = wopts.backend, .recursive = !filesystem, .mark_hint = false});
      if (err != ENOSPC || filesystem) throw Failure(text);
      limit_error_ = std::move(text);
      return false;
    } catch (const std::system_error& e) {
      throw Failure(toolcommon::watch_error_message(operand, e.code().value()));
    }
  }

  const Options& opts_;
  ExcludeRules rules_;
  Batcher batcher_;
  CookieJar jar_;
  std::unique_ptr<libwatch::Watcher> watcher_;
  std::string limit_error_;  // set by watch() when the watch limit stopped it
  libwatch::WatchId root_ = libwatch::kNoWatch;
  Snapshot snapshot_;
  bool repair_due_ = false;
  bool confirmed_ = false;  // an idle moment came after the snapshot was taken
  std::string base_, prefix_, rel_;
  std::uint64_t number_ = 0;
};

int run(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  if (o.help) {
    std::fputs(toolcommon::version_text("inotifybatch").c_str(), stdout);
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (o.version) {
    toolcommon::print_version("inotifybatch");
    return 0;
  }
  if (!o.merge.empty()) return merge(o);
  Session s(o, load_rules(o));
  return s.run();
}

}  // namespace
}  // namespace inotifybatch

int main(int argc, char** argv) {
  try {
    return inotifybatch::run(argc, argv);
  } catch (const toolcommon::Failure& f) {
    toolcommon::write_stderr(f.message());
    return f.status();
  } catch (const std::exception& e) {
    toolcommon::write_stderr(fmt::format("inotifybatch: internal error: {}\n", e.what()));
    return 1;
  }
}
