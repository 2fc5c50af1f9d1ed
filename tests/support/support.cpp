#include "support.hpp"

#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace testsupport {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

int restore_perms(const char* path, const struct stat* st, int type, struct FTW*) {
  if (type == FTW_D || type == FTW_DNR || type == FTW_DP) ::chmod(path, (st->st_mode & 07777) | 0700);
  return 0;
}

}  // namespace

TempDir::TempDir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + std::string(prefix) + ".XXXXXX";
  if (!::mkdtemp(tmpl.data())) fail("mkdtemp " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() { remove_all(path_); }

void lower_this_thread_priority() {
  // setpriority(2) on a thread id changes that thread alone (Linux).
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19) != 0)
    throw std::system_error(errno, std::generic_category(), "setpriority");
}

void remove_all(const std::string& path) {
  // Make every directory writable and searchable first (tests create unreadable ones).
  ::nftw(path.c_str(), restore_perms, 64, FTW_PHYS);
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

void write_file(const std::string& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("open " + path);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      fail("write " + path);
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void touch(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fail("touch " + path);
  ::close(fd);
}

void mkdir_p(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw std::system_error(ec, "mkdir -p " + path);
}

std::string bin(std::string_view name) { return std::string(LIBWATCH_BIN_DIR) + "/" + std::string(name); }

std::optional<std::string> reference_bin(std::string_view name) {
  std::string p = "/usr/bin/" + std::string(name);
  if (::access(p.c_str(), X_OK) == 0) return p;
  return std::nullopt;
}

Process::Process(std::vector<std::string> argv) : Process(std::move(argv), Options{}) {}

Process::Process(std::vector<std::string> argv, Options options) : argv_(std::move(argv)) {
  int out[2], err[2], in[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC)) fail("pipe");
  if (options.stderr_fd >= 0) {
    err[0] = -1;
    err[1] = options.stderr_fd;
  } else if (::pipe2(err, O_CLOEXEC)) {
    fail("pipe");
  }
  if (options.stdin_data && ::pipe2(in, O_CLOEXEC)) fail("pipe");
  pid_ = ::fork();
  if (pid_ < 0) fail("fork");
  if (pid_ == 0) {
    // Child: only async-signal-safe work until exec (we are single-threaded enough for tests).
    if (in[0] >= 0) {
      ::dup2(in[0], 0);
    } else {
      int devnull = ::open("/dev/null", O_RDONLY);
      ::dup2(devnull, 0);
    }
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    if (err[1] == 2) ::fcntl(2, F_SETFD, 0);  // dup2 onto itself would leave FD_CLOEXEC set
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(127);
    for (const auto& [k, v] : options.env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    std::string argv0 = options.argv0.empty() ? argv_[0] : options.argv0;
    args.push_back(argv0.data());
    for (std::size_t i = 1; i < argv_.size(); ++i) args.push_back(argv_[i].data());
    args.push_back(nullptr);
    ::execve(argv_[0].c_str(), args.data(), environ);
    ::_exit(127);
  }
  ::close(out[1]);
  if (options.stderr_fd < 0) ::close(err[1]);  // the caller's fd stays the caller's
  out_fd_ = out[0];
  err_fd_ = err[0];
  ::fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  if (err_fd_ >= 0) ::fcntl(err_fd_, F_SETFL, O_NONBLOCK);
  if (in[0] >= 0) {
    ::close(in[0]);
    const std::string& data = *options.stdin_data;
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(in[1], data.data() + done, data.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::close(in[1]);
  }
}

Process::~Process() {
  if (pid_ > 0 && !exit_) {
    ::kill(pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

void Process::pump(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  int nfds = 0;
  if (out_fd_ >= 0) ++nfds;
  if (err_fd_ >= 0) ++nfds;
  if (nfds == 0) return;
  if (out_fd_ < 0) fds[0].fd = -1;
  if (err_fd_ < 0) fds[1].fd = -1;
  int r = ::poll(fds, 2, static_cast<int>(timeout.count()));
  if (r <= 0) return;
  char buf[65536];
  for (int i = 0; i < 2; ++i) {
    int& fd = i == 0 ? out_fd_ : err_fd_;
    std::string& dst = i == 0 ? out_ : err_;
    if (fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        dst.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) {
        ::close(fd);
        fd = -1;
      }
      break;  // EAGAIN or EOF
    }
  }
}

bool Process::running() {
  if (exit_) return false;
  int st;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    Exit e;
    if (WIFEXITED(st)) {
      e.exited = true;
      e.code = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
      e.signal = WTERMSIG(st);
    }
    exit_ = e;
    return false;
  }
  return true;
}

bool Process::wait_for(const std::string& which, std::string_view needle, std::chrono::milliseconds timeout) {
  const std::string& buf = which == "out" ? out_ : err_;
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (buf.find(needle) != std::string::npos) return true;
    if (!running() && out_fd_ < 0 && err_fd_ < 0) return false;
    auto now = Clock::now();
    if (now >= deadline) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    pump(std::min(left, std::chrono::milliseconds(50)));
    if (!running()) pump(0ms);  // drain what the child left behind
  }
}

bool Process::wait_stderr(std::string_view needle, std::chrono::milliseconds timeout) {
  return wait_for("err", needle, timeout);
}

bool Process::wait_stdout(std::string_view needle, std::chrono::milliseconds timeout) {
  return wait_for("out", needle, timeout);
}

bool Process::wait_stdout_lines(std::size_t n, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    std::size_t lines = 0;
    for (char c : out_) lines += c == '\n';
    if (lines >= n) return true;
    if (!running() && out_fd_ < 0) return false;
    auto now = Clock::now();
    if (now >= deadline) return false;
    pump(
        std::min(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now), std::chrono::milliseconds(50)));
  }
}

void Process::signal(int sig) {
  if (pid_ > 0 && !exit_) ::kill(pid_, sig);
}

Exit Process::wait(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
      Exit e;
      e.timed_out = true;
      e.signal = SIGKILL;
      exit_ = e;
      break;
    }
    pump(10ms);
  }
  // Collect the rest of the output (the pipes close when the child and its children are gone).
  auto drain_deadline = Clock::now() + 2s;
  while ((out_fd_ >= 0 || err_fd_ >= 0) && Clock::now() < drain_deadline) pump(20ms);
  return *exit_;
}

std::vector<std::string> Process::out_lines() const {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < out_.size(); ++i) {
    if (out_[i] == '\n') {
      lines.push_back(out_.substr(start, i - start));
      start = i + 1;
    }
  }
  return lines;
}

std::string Process::describe() const {
  std::ostringstream ss;
  ss << "command:";
  for (const auto& a : argv_) ss << " '" << a << "'";
  if (exit_) {
    if (exit_->timed_out)
      ss << "\nexit: timed out (killed)";
    else if (exit_->exited)
      ss << "\nexit: " << exit_->code;
    else
      ss << "\nexit: signal " << exit_->signal;
  }
  ss << "\n--- stdout ---\n" << out_ << "\n--- stderr ---\n" << err_ << "\n---";
  return ss.str();
}

RunResult run(std::vector<std::string> argv, Process::Options options, std::chrono::milliseconds timeout) {
  Process p(std::move(argv), std::move(options));
  RunResult r;
  r.exit = p.wait(timeout);
  r.out = p.out();
  r.err = p.err();
  return r;
}

std::string without_watch_limit_line(const std::string& err, bool* found) {
  static const std::regex line(
      "The tree .* holds (at least )?[0-9,]+ directories; the limit is [0-9,]+ watches per user(, [0-9,]+ in use)?: "
      "`sysctl [a-z_.]+=[0-9]+` makes room until the next boot, a line `[a-z_.]+=[0-9]+` in "
      "/etc/sysctl.d/90-inotify-watches.conf makes it last.( Or use -S: [^\n]*)?\n");
  std::smatch m;
  if (!std::regex_search(err, m, line)) {
    if (found) *found = false;
    return err;
  }
  if (found) *found = true;
  return m.prefix().str() + m.suffix().str();
}

}  // namespace testsupport
