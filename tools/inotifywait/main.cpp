// inotifywait: wait for filesystem events and print them, a drop-in for inotify-tools' program.
// The startup sequence follows the reference step by step (section 1.3 of the reference notes),
// because the order of its messages is part of the interface.
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <libwatch/watcher.hpp>
#include <toolcommon/filesystems.hpp>
#include <toolcommon/inputs.hpp>
#include <toolcommon/messages.hpp>
#include <toolcommon/progress.hpp>

#include "format.hpp"
#include "json_format.hpp"
#include "options.hpp"
#include "output.hpp"

namespace inotifywait {
namespace {

using libwatch::Clock;
using libwatch::kNoWatch;
using libwatch::WatchId;
using toolcommon::Failure;

// D4: printed (not with -qq) whenever events were lost, kernel or our own queue.
constexpr std::string_view kOverflowWarning =
    "Warning: the event queue overflowed and some events were lost; rescanning the watched trees.\n";

// D8: -d changes to "/" before watching, so relative paths are made absolute first.
std::string absolute(const std::string& cwd, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return cwd + (cwd.size() > 1 ? "/" : "") + path;
}

int open_outfile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw Failure(fmt::format("Failed to open output file {}\n", path));
  return fd;
}

void move_to_stdout(int fd) {
  if (fd != 1) {
    ::dup2(fd, 1);
    ::close(fd);
  }
}

int run(int argc, char** argv) {
  Options opts = parse_options(argc, argv);

  // Step 13: the inotify instance (no thread yet, so -d can fork with it below).
  libwatch::WatcherOptions wopts;
  wopts.backend = opts.backend;
  wopts.lazy_directories = true;  // -S: ready at once whatever the tree size (issue 14)
  std::unique_ptr<libwatch::Watcher> watcher = toolcommon::make_watcher(wopts);

  // Steps 14 and 15: the regular expression and the format, before any watch exists.
  toolcommon::Filter filter(opts.regex);
  const toolcommon::RegexList prune = toolcommon::compile_prune(opts.prune);
  JsonFormat json;
  Format format = opts.csv      ? Format::csv()
                  : opts.format ? Format::custom(*opts.format, opts.no_newline, opts.timefmt.value_or(""))
                                : Format::default_format();

  // Step 16: the masks.
  const libwatch::Mask requested = opts.requested();
  libwatch::AddOptions add;
  add.mask = requested;
  add.recursive = opts.recursive;
  add.track = opts.recursive && opts.monitor;
  add.dont_follow = opts.no_dereference;

  // Step 17: what to watch.
  toolcommon::WatchList list = toolcommon::build_watch_list(opts.fromfile, opts.operands);
  Messages::error(list.diagnostics);
  if (list.paths.empty()) throw Failure(std::string(toolcommon::kNoFilesMessage));

  // Step 18: -d or -o.
  if (opts.daemon) {
    std::string cwd;
    if (char* c = ::getcwd(nullptr, 0)) {
      cwd = c;
      std::free(c);
    }
    for (auto& p : list.paths) p = absolute(cwd, p);
    for (auto& p : list.exclusions) p = absolute(cwd, p);
    int fd = open_outfile(*opts.outfile);  // D8: created if missing
    if (::daemon(0, 0) != 0) throw Failure("Failed to daemonize!\n");
    move_to_stdout(fd);
  } else if (opts.outfile) {
    move_to_stdout(open_outfile(*opts.outfile));
  }

  // Step 19.
  Messages messages;
  if (opts.syslog) messages.use_syslog();
  const int quiet = opts.quiet;
  EventOutput out;
  // Warnings come out of next(): the events before them go out first, as with the reference.
  // The progress line of a long -r setup, on a terminal only (it never reaches syslog).
  toolcommon::SetupProgress progress(opts.recursive && quiet == 0 && !opts.syslog &&
                                     toolcommon::SetupProgress::stderr_is_terminal());
  watcher->on_warning([&messages, &out, &progress](const libwatch::Warning& w) {
    progress.erase();
    out.flush();
    if (auto line = toolcommon::warning_message(w)) messages.routable(*line);
  });

  // Steps 20 to 22.
  if (quiet == 0)
    messages.routable(opts.recursive ? "Setting up watches.  Beware: since -r was given, this may take a while!\n"
                                     : "Setting up watches.\n");
  if (opts.recursive) add.exclude = list.exclusions;  // '@' only matters for recursive setup
  if (opts.recursive && !prune.empty()) add.prune = toolcommon::prune_predicate(prune);
  add.progress = [&progress](std::size_t directories) { progress.update(directories); };
  for (const auto& path : list.paths) {
    try {
      watcher->add(path, add);
    } catch (const libwatch::WatchError& e) {
      progress.erase();
      messages.routable(toolcommon::add_error_message(e.operand(), e.code().value(),
                                                      {.backend = opts.backend, .recursive = opts.recursive}));
      return toolcommon::kExitFailure;
    } catch (const std::system_error& e) {
      progress.erase();
      messages.routable(toolcommon::watch_error_message(path, e.code().value()));
      return toolcommon::kExitFailure;
    }
  }
  progress.erase();
  if (quiet < 2)
    for (const auto& path : list.paths)
      for (const std::string& line : toolcommon::remote_fs_warnings(path, opts.recursive)) messages.routable(line);
  if (quiet == 0) messages.routable("Watches established.\n");

  // Step 24: the event loop.
  std::string match;  // "%w%f" for the regular expression
  match.reserve(4096);
  const auto timeout = std::chrono::seconds(opts.timeout);
  std::optional<Clock::time_point> deadline;
  if (opts.timeout) deadline = Clock::now() + timeout;
  std::uint64_t overflows_seen = 0;
  // --json: an overflow record is followed by a rescan record once the trees have been walked
  // again, which is done by the time next() returns or goes idle.
  bool rescan_due = false;
  auto rescan_record = [&] {
    if (!rescan_due) return;
    rescan_due = false;
    json.rescan(watcher->watch_count(), out.buffer());
    out.end_event();
  };

  // A reader that falls behind: wait for it with the kernel read meanwhile, not with ever more
  // output. Not from inside next() (the idle handler): next() waits for the pipe itself there.
  bool idle = false;
  out.wait_with([&](libwatch::PollFd fd) { return !idle && watcher->wait_ready(fd); });
  // Nothing more to deliver right now: let readers see what is buffered before the wait; what a
  // full pipe cannot take yet waits for POLLOUT beside the kernel, which is read meanwhile.
  watcher->on_idle([&] {
    idle = true;
    rescan_record();
    libwatch::PollFd pending = out.flush_ready();
    idle = false;
    return pending;
  });
  while (true) {
    auto ev = watcher->next(deadline);
    rescan_record();
    if (!ev) {
      if (watcher->interrupted()) continue;
      out.flush();
      return toolcommon::kExitTimeout;
    }
    if (watcher->overflows() != overflows_seen) {  // D4
      overflows_seen = watcher->overflows();
      if (quiet < 2) {
        out.flush();
        messages.routable(kOverflowWarning);
      }
    }
    if (opts.json && ev->watch == kNoWatch && quiet < 2) {
      // Whatever -e and the filters say: a JSON reader must learn that events were lost. (The
      // overflow is not printed again as an event below.)
      json.overflow(out.buffer());
      out.end_event();
      rescan_due = true;
    }
    std::string_view path = watcher->cached_path(ev->watch);
    if (filter.active()) {
      match.assign(path);
      match.append(ev->name);
      if (!filter.passes(match)) continue;
    }
    const bool wanted = (ev->mask & requested) != 0;
    if (wanted && quiet < 2 && !(opts.json && ev->watch == kNoWatch)) {
      if (opts.json)
        json.render({path, ev->name, ev->mask, ev->cookie}, out.buffer());
      else
        format.render({path, ev->name, ev->mask, ev->cookie}, out.buffer());
      out.end_event();
    }
    if (!opts.monitor) {
      out.flush();
      return wanted ? toolcommon::kExitOk : toolcommon::kExitFailure;
    }
    if (wanted && deadline) deadline = Clock::now() + timeout;  // D13: only printed events count
  }
}

}  // namespace
}  // namespace inotifywait

int main(int argc, char** argv) {
  try {
    return inotifywait::run(argc, argv);
  } catch (const toolcommon::Failure& f) {
    std::fflush(stdout);
    inotifywait::Messages::error(f.message());
    return f.status();
  } catch (const std::exception& e) {  // a bug: still exit 1, never with a library's own status
    inotifywait::Messages::error(fmt::format("inotifywait: internal error: {}\n", e.what()));
    return toolcommon::kExitFailure;
  }
}
