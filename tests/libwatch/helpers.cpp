#include "helpers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace lwtest {

Rec record(const libwatch::Watcher& w, const libwatch::Event& e) {
  Rec r;
  r.watch = e.watch;
  r.wd = e.wd;
  r.mask = e.mask;
  r.cookie = e.cookie;
  if (e.watch != libwatch::kNoWatch) r.path = w.path(e.watch);
  r.name = std::string(e.name);
  r.synthetic = e.synthetic;
  return r;
}

std::string describe(const Rec& r) {
  std::ostringstream ss;
  ss << (r.watch == libwatch::kNoWatch ? std::string("<no watch>") : r.path) << " "
     << libwatch::mask_to_text(r.mask).view() << " " << r.name;
  if (r.cookie) ss << " cookie=" << r.cookie;
  if (r.synthetic) ss << " [synthetic]";
  ss << " (watch " << r.watch << ", wd " << r.wd << ")";
  return ss.str();
}

std::string describe(const std::vector<Rec>& v, std::size_t max) {
  std::ostringstream ss;
  ss << v.size() << " events:\n";
  for (std::size_t i = 0; i < v.size() && i < max; ++i) ss << "  " << describe(v[i]) << "\n";
  if (v.size() > max) ss << "  ... and " << (v.size() - max) << " more\n";
  return ss.str();
}

bool collect_until(libwatch::Watcher& w, std::vector<Rec>& out,
                   const std::function<bool(const std::vector<Rec>&)>& done, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!done(out)) {
    auto e = w.next(deadline);
    if (!e) {
      if (w.interrupted() && Clock::now() < deadline) continue;
      return done(out);
    }
    out.push_back(record(w, *e));
  }
  return true;
}

bool collect_until_event(libwatch::Watcher& w, std::vector<Rec>& out, const std::function<bool(const Rec&)>& pred,
                         std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto e = w.next(deadline);
    if (!e) {
      if (w.interrupted() && Clock::now() < deadline) continue;
      return false;
    }
    out.push_back(record(w, *e));
    if (pred(out.back())) return true;
  }
}

bool pump_until(libwatch::Watcher& w, std::vector<Rec>& out, const std::function<bool()>& fact,
                std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!fact()) {
    auto now = Clock::now();
    if (now >= deadline) return fact();
    auto e = w.next(std::min(deadline, now + 50ms));
    if (e) out.push_back(record(w, *e));
  }
  return true;
}

void create_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "create " + path);
  ::close(fd);
}

std::size_t kernel_watch_count(int inotify_fd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(inotify_fd));
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line))
    if (line.rfind("inotify wd:", 0) == 0 || line.rfind("fanotify ino:", 0) == 0) ++n;
  return n;
}

std::multiset<std::string> table_paths(const libwatch::Watcher& w) {
  std::multiset<std::string> out;
  table_of(w).for_each([&](WatchId id) { out.insert(w.path(id)); });
  return out;
}

std::multiset<std::string> disk_dirs(const std::string& root) {
  namespace fs = std::filesystem;
  std::multiset<std::string> out{root + "/"};
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory() && !it->is_symlink()) out.insert(root + "/" + fs::relative(it->path(), root).string() + "/");
  }
  return out;
}

std::string join(const std::multiset<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += "  " + x + "\n";
  return out;
}

void write_line(int fd, const std::string& line) {
  std::string l = line + "\n";
  std::size_t done = 0;
  while (done < l.size()) {
    ssize_t n = ::write(fd, l.data() + done, l.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

ChildResult run_in_child(const std::function<void(int)>& f, std::chrono::milliseconds timeout) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    ::close(p[0]);
    try {
      f(p[1]);
    } catch (const std::exception& e) {
      write_line(p[1], std::string("exception: ") + e.what());
    } catch (...) {
      write_line(p[1], "exception: unknown");
    }
    ::_exit(0);
  }
  ::close(p[1]);
  ChildResult r;
  auto deadline = Clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd pfd{p[0], POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    ssize_t got = ::read(p[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    r.output.append(buf, static_cast<std::size_t>(got));
  }
  ::close(p[0]);
  if (r.timed_out) ::kill(pid, SIGKILL);
  ::waitpid(pid, &r.status, 0);
  return r;
}

libwatch::AddOptions opts(Mask mask, unsigned flags, std::vector<std::string> exclude) {
  libwatch::AddOptions o;
  o.mask = mask;
  o.recursive = (flags & kRecursive) != 0;
  o.track = (flags & kTrack) != 0;
  o.dont_follow = (flags & kDontFollow) != 0;
  o.exclude = std::move(exclude);
  return o;
}

libwatch::WatcherOptions with_queue_bytes(std::size_t bytes) {
  libwatch::WatcherOptions o;
  o.queue_bytes = bytes;
  return o;
}

long find_first(const std::vector<Rec>& v, const std::function<bool(const Rec&)>& pred, std::size_t from) {
  for (std::size_t i = from; i < v.size(); ++i)
    if (pred(v[i])) return static_cast<long>(i);
  return -1;
}

std::size_t count_if(const std::vector<Rec>& v, const std::function<bool(const Rec&)>& pred) {
  std::size_t n = 0;
  for (const auto& r : v) n += pred(r) ? 1 : 0;
  return n;
}

void BackendTest::SetUp() {
  WatcherTest::SetUp();
  if (GetParam() == libwatch::BackendKind::inotify) return;
  if (GetParam() == libwatch::BackendKind::fanotify_filesystem && ::geteuid() != 0)
    GTEST_SKIP() << "a filesystem mark needs CAP_SYS_ADMIN; not root";
  try {
    libwatch::Watcher probe(backend_options());
  } catch (const std::system_error& e) {
    GTEST_SKIP() << "fanotify not available here: " << e.what();
  }
}

std::size_t BackendTest::kernel_marks(const libwatch::Watcher& w) const {
  const std::size_t n = kernel_watch_count(kernel_fd(w));
  if (GetParam() != libwatch::BackendKind::fanotify_filesystem) return n;
  return n == 0 ? w.watch_count() : std::size_t{0};  // an inode mark here would be a bug
}

std::string backend_name(const ::testing::TestParamInfo<libwatch::BackendKind>& info) {
  switch (info.param) {
    case libwatch::BackendKind::fanotify_inode:
      return "fanotify";
    case libwatch::BackendKind::fanotify_filesystem:
      return "filesystem";
    case libwatch::BackendKind::inotify:
      break;
  }
  return "inotify";
}

}  // namespace lwtest
