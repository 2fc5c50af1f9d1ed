// bench_run: one measured trial of one program, for scripts/bench.
//
//   bench_run setup    KIND BIN DIR                 exec -> "Watches established." (KIND wait, floor) or
//                                                   "Finished establishing watches..." (KIND watch); VmHWM
//   bench_run drain    SINK BIN DIR OPS             SINK null|pipe: stop the watcher, queue OPS*5 events,
//                                                   continue it, time until its last line is written
//   bench_run cpu      BIN DIR OPS RATE             CPU time of the watcher while OPS*5 events stream in
//   bench_run burst    BIN DIR OPS STALL_MS QLIMIT  OPS*5 events while the reader stalls; lines lost
//                                                   (QLIMIT: max_queued_events for the watcher, 0 = as is)
//   bench_run race     BIN DIR TRIALS GAP_US        mkdir -p t<i>/a/b/c; creat t<i>/a/b/c/f: misses
//   bench_run rename   BIN DIR BIG DEEP             rename DIR/BIG, creat a file in DEEP below it: time, path
//   bench_run latency  BIN DIR COUNT                write -> line read from the pipe, COUNT spaced events
//   bench_run latency-pair REF OURS DIR COUNT [SAMPLES]  the same for both programs at once, writes
//                                                   interleaved, one CPU; "TOOL KEY VALUE" lines (also
//                                                   net of run-queue waits); SAMPLES: append every sample
//   bench_run latency-pool SAMPLES                  p50/p99/max of every sample in SAMPLES, per tool
//
// BIN is inotifywait (ours or the reference; inotifywatch or bench_floor for setup). DIR must
// exist; for drain, cpu and burst it must have been prepared with `bench_events prepare DIR`.
// Results go to stdout as "key value" lines; a failed trial prints "error <reason>" and exits 1.
// The generators are run from the directory this program lives in.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.h"

namespace {

using Ns = std::int64_t;

Ns now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Ns{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& what) { throw Failure(what); }

std::string self_dir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) fail("cannot resolve /proc/self/exe");
  return p.parent_path().string();
}

void sleep_ns(Ns ns) {
  if (ns <= 0) return;
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("open " + path + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) fail("write " + path + ": " + std::strerror(errno));
}

// fork(), and the child dies (SIGKILL) when bench_run does, however bench_run ends.
pid_t fork_child() {
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
  }
  return pid;
}

// ---- the watched process -------------------------------------------------------------------

enum class Out { devnull, pipe };

// A child process with its stderr (and optionally stdout) on pipes we read.
class Child {
 public:
  Child(const std::vector<std::string>& argv, Out out, const std::vector<std::string>& env = {}) {
    int errp[2], outp[2] = {-1, -1};
    if (::pipe2(errp, O_CLOEXEC) != 0) fail("pipe");
    if (out == Out::pipe && ::pipe2(outp, O_CLOEXEC) != 0) fail("pipe");
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    started_ns_ = now_ns();
    pid_ = fork_child();
    if (pid_ < 0) fail("fork");
    if (pid_ == 0) {
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(out == Out::pipe ? outp[1] : null, 1);
      ::dup2(errp[1], 2);
      ::signal(SIGPIPE, SIG_DFL);
      for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
      ::execv(args[0], args.data());
      std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
      ::_exit(127);
    }
    ::close(errp[1]);
    err_ = errp[0];
    if (out == Out::pipe) {
      ::close(outp[1]);
      out_ = outp[0];
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { stop(); }

  pid_t pid() const { return pid_; }
  int out_fd() const { return out_; }
  Ns started_ns() const { return started_ns_; }
  const std::string& err_text() const { return err_text_; }

  // Reads stderr until a line equal to want appears; returns the time it was seen.
  Ns wait_stderr_line(const std::string& want, Ns deadline) {
    for (;;) {
      std::size_t start = 0;
      for (std::size_t nl; (nl = err_text_.find('\n', start)) != std::string::npos; start = nl + 1) {
        if (err_text_.compare(start, nl - start, want) == 0 && start >= err_scanned_) {
          Ns t = now_ns();
          err_scanned_ = nl + 1;
          return t;
        }
      }
      if (!pump_stderr(deadline)) {
        if (exited()) fail("the watcher exited before '" + want + "'; stderr: " + err_text_);
        fail("timed out waiting for '" + want + "'; stderr: " + err_text_);
      }
    }
  }

  // Reads whatever stderr has (waiting until deadline for some). False on timeout or EOF.
  bool pump_stderr(Ns deadline) {
    if (err_ < 0) return false;
    Ns left = deadline - now_ns();
    if (left < 0) return false;
    pollfd p{err_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left / 1000000) + 1);
    if (r <= 0) return false;
    char buf[4096];
    ssize_t n = ::read(err_, buf, sizeof buf);
    if (n <= 0) {
      ::close(err_);
      err_ = -1;
      return false;
    }
    err_text_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  // Non-blocking: collect what stderr has now, so that the watcher never blocks on it.
  void drain_stderr() {
    while (err_ >= 0) {
      pollfd p{err_, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) return;
      if (!pump_stderr(now_ns() + 1000000)) return;
    }
  }

  bool exited() {
    if (pid_ <= 0) return true;
    int st;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return true;
    }
    return false;
  }

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGCONT);
      ::kill(pid_, SIGKILL);
      int st;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    if (out_ >= 0) ::close(out_);
    if (err_ >= 0) ::close(err_);
    out_ = err_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  Ns started_ns_ = 0;
  std::string err_text_;
  std::size_t err_scanned_ = 0;
};

long proc_status_kb(pid_t pid, const char* key) {
  std::string s = read_file("/proc/" + std::to_string(pid) + "/status");
  auto at = s.find(key);
  if (at == std::string::npos) fail(std::string("no ") + key + " in /proc/PID/status");
  return std::strtol(s.c_str() + at + std::strlen(key), nullptr, 10);
}

// CPU time (user + system) of every live thread, in ns: the first field of
// /proc/PID/task/TID/schedstat is the thread's sum_exec_runtime, the same quantity as
// utime+stime in /proc/PID/stat, without the 10 ms clock-tick granularity.
Ns cpu_ns(pid_t pid) {
  Ns total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::string s = read_file(e.path().string() + "/schedstat");
    total += std::strtoll(s.c_str(), nullptr, 10);
  }
  if (ec) fail("cannot read /proc/PID/task");
  return total;
}

// Time every live thread spent runnable but waiting for a CPU (the second field of schedstat):
// how much of a wall-clock time the load of the machine took.
Ns runqueue_wait_ns(pid_t pid) {
  Ns total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::string s = read_file(e.path().string() + "/schedstat");
    char* end = nullptr;
    std::strtoll(s.c_str(), &end, 10);
    total += std::strtoll(end, nullptr, 10);
  }
  return total;
}

// utime + stime from /proc/PID/stat, in ns (clock-tick granularity).
Ns stat_cpu_ns(pid_t pid) {
  std::string s = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = s.rfind(')');
  std::istringstream in(s.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return (utime + stime) * (1000000000LL / ::sysconf(_SC_CLK_TCK));
}

// Context switches of every live thread (voluntary: the thread slept; involuntary: preempted).
struct Switches {
  long long voluntary = 0, involuntary = 0;
};
Switches switches(pid_t pid) {
  Switches s;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::string st = read_file(e.path().string() + "/status");
    auto v = st.find("voluntary_ctxt_switches:"), n = st.find("nonvoluntary_ctxt_switches:");
    if (v != std::string::npos) s.voluntary += std::strtoll(st.c_str() + v + 24, nullptr, 10);
    if (n != std::string::npos) s.involuntary += std::strtoll(st.c_str() + n + 27, nullptr, 10);
  }
  return s;
}

// A field of /proc/PID/io ("wchar:", "syscr:", "syscw:"), all threads of the process.
unsigned long long proc_io(pid_t pid, const char* key) {
  std::string s = read_file("/proc/" + std::to_string(pid) + "/io");
  auto at = s.find(key);
  if (at == std::string::npos) fail(std::string("no ") + key + " in /proc/PID/io");
  return std::strtoull(s.c_str() + at + std::strlen(key), nullptr, 10);
}

// Bytes the process passed to write(2) so far (all threads), including writes to /dev/null.
unsigned long long wchar(pid_t pid) {
  std::string s = read_file("/proc/" + std::to_string(pid) + "/io");
  auto at = s.find("wchar:");
  if (at == std::string::npos) fail("no wchar in /proc/PID/io");
  return std::strtoull(s.c_str() + at + 6, nullptr, 10);
}

void stop_process(pid_t pid) {
  ::kill(pid, SIGSTOP);
  // Every thread must be stopped before we queue events.
  Ns deadline = now_ns() + 5000000000LL;
  for (;;) {
    bool all = true;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
      std::string s = read_file(e.path().string() + "/stat");
      auto close = s.rfind(')');
      if (close == std::string::npos || close + 2 >= s.size() || s[close + 2] != 'T') all = false;
    }
    if (all) return;
    if (now_ns() > deadline) fail("the watcher did not stop");
    sleep_ns(200000);
  }
}

int run_program(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork_child();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int st;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

std::vector<std::string> watcher_argv(const std::string& bin, std::vector<std::string> args) {
  args.insert(args.begin(), bin);
  return args;
}

// Counts bytes and lines read from fd until `bytes` have come, the deadline passes, or nothing
// arrives for `idle_ns` (0: no idle limit). Returns the time the last byte was read.
struct ReadResult {
  unsigned long long bytes = 0;
  unsigned long long lines = 0;
  Ns last_ns = 0;
  bool complete = false;
};
ReadResult read_count(int fd, unsigned long long want, Ns deadline, Ns idle_ns, Child* child = nullptr) {
  ReadResult r;
  static char buf[1 << 16];
  Ns last_data = now_ns();
  while (r.bytes < want) {
    Ns now = now_ns();
    if (now > deadline) break;
    if (idle_ns && now - last_data > idle_ns) break;
    if (child) child->drain_stderr();
    pollfd p{fd, POLLIN, 0};
    int ms = static_cast<int>(std::min<Ns>(deadline - now, 100000000) / 1000000) + 1;
    int pr = ::poll(&p, 1, ms);
    if (pr <= 0) continue;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    r.last_ns = last_data = now_ns();
    r.bytes += static_cast<unsigned long long>(n);
    r.lines += static_cast<unsigned long long>(std::count(buf, buf + n, '\n'));
  }
  r.complete = r.bytes == want;
  return r;
}

// Reads lines from fd until pred(line) is true (returns that line) or the deadline passes.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  std::optional<std::string> next(Ns deadline) {
    for (;;) {
      auto nl = buf_.find('\n', pos_);
      if (nl != std::string::npos) {
        std::string line = buf_.substr(pos_, nl - pos_);
        pos_ = nl + 1;
        if (pos_ > (1 << 20)) {
          buf_.erase(0, pos_);
          pos_ = 0;
        }
        return line;
      }
      Ns left = deadline - now_ns();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left / 1000000) + 1) <= 0) continue;
      char tmp[1 << 16];
      ssize_t n = ::read(fd_, tmp, sizeof tmp);
      if (n <= 0) return std::nullopt;
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buf_;
  std::size_t pos_ = 0;
};

constexpr Ns kSecond = 1000000000LL;
constexpr Ns kMs = 1000000LL;
const char* const kEstablished = "Watches established.";

void out(const char* key, double v) { std::printf("%s %.6g\n", key, v); }
void out(const char* key, long long v) { std::printf("%s %lld\n", key, v); }

unsigned long parse_ulong(const std::string& s) {
  std::size_t used = 0;
  unsigned long v = std::stoul(s, &used);
  if (used != s.size()) fail("bad number '" + s + "'");
  return v;
}

// Heap allocations of a child run with bench_alloc.so preloaded (see alloc_count.c).
class AllocCounter {
 public:
  AllocCounter() {
    const std::string so = self_dir() + "/bench_alloc.so";
    if (::access(so.c_str(), R_OK) != 0) return;
    char name[] = "/dev/shm/bench-alloc-XXXXXX";
    int fd = ::mkstemp(name);
    if (fd < 0) return;
    path_ = name;
    if (::ftruncate(fd, 4096) == 0) {
      void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (p != MAP_FAILED) count_ = static_cast<volatile std::uint64_t*>(p);
    }
    ::close(fd);
    if (count_) env_ = {"LD_PRELOAD=" + so, "BENCH_ALLOC_COUNTER=" + path_};
  }
  ~AllocCounter() {
    if (count_) ::munmap(const_cast<std::uint64_t*>(count_), 4096);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  AllocCounter(const AllocCounter&) = delete;
  AllocCounter& operator=(const AllocCounter&) = delete;
  bool active() const { return count_ != nullptr; }
  const std::vector<std::string>& env() const { return env_; }
  std::uint64_t value() const { return count_ ? __atomic_load_n(count_, __ATOMIC_RELAXED) : 0; }

 private:
  std::string path_;
  volatile std::uint64_t* count_ = nullptr;
  std::vector<std::string> env_;
};

// ---- the trials ------------------------------------------------------------------------------

int cmd_setup(const std::string& kind, const std::string& bin, const std::string& dir) {
  std::vector<std::string> argv;
  std::string ready = kEstablished;
  if (kind == "wait") {
    argv = {bin, "-m", "-r", dir};
  } else if (kind == "watch") {
    argv = {bin, "-r", dir};
    ready = "Finished establishing watches, now collecting statistics.";
  } else if (kind == "floor") {
    argv = {bin, dir};
  } else {
    fail("unknown setup kind " + kind);
  }
  Child c(argv, Out::devnull);
  Ns t = c.wait_stderr_line(ready, now_ns() + 300 * kSecond);
  long hwm = proc_status_kb(c.pid(), "VmHWM:");
  out("time_ms", static_cast<double>(t - c.started_ns()) / 1e6);
  out("rss_kb", static_cast<long long>(hwm));
  // utime + stime of the whole process, threads that already ended included.
  out("cpu_ms", static_cast<double>(stat_cpu_ns(c.pid())) / 1e6);
  out("runq_ms", static_cast<double>(runqueue_wait_ns(c.pid())) / 1e6);
  return 0;
}

int cmd_drain(const std::string& sink, const std::string& bin, const std::string& dir, unsigned long ops) {
  const bool to_pipe = sink == "pipe";
  if (!to_pipe && sink != "null") fail("sink must be null or pipe");
  const unsigned long long want = bench_expected_bytes(dir.c_str(), ops);
  AllocCounter allocs;
  Child c(watcher_argv(bin, {"-m", "-r", dir}), to_pipe ? Out::pipe : Out::devnull, allocs.env());
  c.wait_stderr_line(kEstablished, now_ns() + 60 * kSecond);
  sleep_ns(100 * kMs);  // let a setup thread or two finish before the process is stopped
  const unsigned long long base = wchar(c.pid());
  stop_process(c.pid());
  const std::uint64_t allocs0 = allocs.value();
  if (run_program({self_dir() + "/bench_events", "mixed", dir, std::to_string(ops), "0"}) != 0)
    fail("bench_events mixed failed");
  const Ns t0 = now_ns();
  ::kill(c.pid(), SIGCONT);
  Ns t1 = 0;
  unsigned long long got = 0;
  if (to_pipe) {
    ReadResult r = read_count(c.out_fd(), want, t0 + 120 * kSecond, 10 * kSecond, &c);
    got = r.bytes;
    t1 = r.last_ns;
  } else {
    // /dev/null keeps nothing, but /proc/PID/io counts every byte written to it.
    Ns last_change = t0;
    unsigned long long last = base;
    for (;;) {
      unsigned long long w = wchar(c.pid());
      Ns now = now_ns();
      if (w != last) {
        last = w;
        last_change = now;
      }
      if (w - base >= want) {
        t1 = now;
        break;
      }
      if (now - last_change > 10 * kSecond || now - t0 > 120 * kSecond) break;
      c.drain_stderr();
      sleep_ns(200000);
    }
    got = last - base;
  }
  if (got != want)
    fail("expected " + std::to_string(want) + " bytes of events, the watcher wrote " + std::to_string(got) +
         "; stderr: " + c.err_text());
  const double secs = static_cast<double>(t1 - t0) / 1e9;
  const double events = static_cast<double>(ops) * BENCH_EVENTS_PER_OP;
  out("events", static_cast<long long>(events));
  out("time_ms", secs * 1e3);
  out("events_per_s", events / secs);
  // malloc() and friends called while the backlog was drained, per event (bench_alloc.so).
  if (allocs.active()) out("allocs_per_event", static_cast<double>(allocs.value() - allocs0) / events);
  return 0;
}

int cmd_cpu(const std::string& bin, const std::string& dir, unsigned long ops, unsigned long rate) {
  const unsigned long long want = bench_expected_bytes(dir.c_str(), ops);
  Child c(watcher_argv(bin, {"-m", "-r", dir}), Out::pipe);
  c.wait_stderr_line(kEstablished, now_ns() + 60 * kSecond);
  sleep_ns(200 * kMs);  // setup threads gone, the watcher idle
  const Ns cpu0 = cpu_ns(c.pid()), tick0 = stat_cpu_ns(c.pid());
  const Switches sw0 = switches(c.pid());
  const unsigned long long reads0 = proc_io(c.pid(), "syscr:"), writes0 = proc_io(c.pid(), "syscw:");
  const Ns t0 = now_ns();
  pid_t gen = fork_child();
  if (gen == 0) {
    std::string g = self_dir() + "/bench_events", o = std::to_string(ops), r = std::to_string(rate);
    ::execl(g.c_str(), g.c_str(), "mixed", dir.c_str(), o.c_str(), r.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ReadResult res = read_count(c.out_fd(), want, t0 + 300 * kSecond, 10 * kSecond, &c);
  const Ns cpu1 = cpu_ns(c.pid()), tick1 = stat_cpu_ns(c.pid());
  const Switches sw1 = switches(c.pid());
  const unsigned long long reads1 = proc_io(c.pid(), "syscr:"), writes1 = proc_io(c.pid(), "syscw:");
  int st;
  ::waitpid(gen, &st, 0);
  if (!res.complete)
    fail("expected " + std::to_string(want) + " bytes of events, read " + std::to_string(res.bytes) +
         "; stderr: " + c.err_text());
  const double events = static_cast<double>(ops) * BENCH_EVENTS_PER_OP;
  out("events", static_cast<long long>(events));
  out("ns_per_event", static_cast<double>(cpu1 - cpu0) / events);
  out("tick_ns_per_event", static_cast<double>(tick1 - tick0) / events);
  out("wall_ms", static_cast<double>(res.last_ns - t0) / 1e6);
  // Per 1,000 events: where CPU goes besides the work itself (sleeping and waking up, syscalls).
  out("vcsw_per_kev", static_cast<double>(sw1.voluntary - sw0.voluntary) * 1000 / events);
  out("ivcsw_per_kev", static_cast<double>(sw1.involuntary - sw0.involuntary) * 1000 / events);
  out("reads_per_kev", static_cast<double>(reads1 - reads0) * 1000 / events);
  out("writes_per_kev", static_cast<double>(writes1 - writes0) * 1000 / events);
  return 0;
}

int cmd_burst(const std::string& bin, const std::string& dir, unsigned long ops, unsigned long stall_ms,
              unsigned long qlimit) {
  const unsigned long long want = bench_expected_bytes(dir.c_str(), ops);
  const std::string qfile = "/proc/sys/fs/inotify/max_queued_events";
  std::string saved;
  // The limit is global and read once, by inotify_init(): lower it only while this watcher starts,
  // and put the old value back only if nobody else changed it meanwhile.
  auto restore = [&] {
    if (qlimit && std::strtoul(read_file(qfile).c_str(), nullptr, 10) == qlimit) write_file(qfile, saved);
  };
  if (qlimit) {
    saved = read_file(qfile);
    if (std::strtoul(saved.c_str(), nullptr, 10) == qlimit)
      qlimit = 0;  // already so: nothing to do
    else
      write_file(qfile, std::to_string(qlimit));
  }
  std::optional<Child> c;
  try {
    c.emplace(watcher_argv(bin, {"-m", "-r", dir}), Out::pipe);
    c->wait_stderr_line(kEstablished, now_ns() + 60 * kSecond);
  } catch (...) {
    restore();
    throw;
  }
  const bool limit_held = !qlimit || std::strtoul(read_file(qfile).c_str(), nullptr, 10) == qlimit;
  restore();
  if (!limit_held) fail("max_queued_events was changed by someone else while the watcher started");
  // The reader (we) stalls now: nothing is read from the watcher's stdout until t0 + stall.
  const Ns t0 = now_ns();
  if (run_program({self_dir() + "/bench_events", "mixed", dir, std::to_string(ops), "0"}) != 0)
    fail("bench_events mixed failed");
  const Ns gen_ns = now_ns() - t0;
  while (now_ns() < t0 + static_cast<Ns>(stall_ms) * kMs) {
    c->drain_stderr();
    sleep_ns(10 * kMs);
  }
  ReadResult r = read_count(c->out_fd(), want, now_ns() + 120 * kSecond, kSecond, &*c);
  c->drain_stderr();
  const long long events = static_cast<long long>(ops) * BENCH_EVENTS_PER_OP;
  out("events", events);
  out("generate_ms", static_cast<double>(gen_ns) / 1e6);
  out("lines", static_cast<long long>(r.lines));
  out("lost", events - static_cast<long long>(r.lines));
  out("lost_pct", 100.0 * static_cast<double>(events - static_cast<long long>(r.lines)) / static_cast<double>(events));
  out("overflow_warning", static_cast<long long>(c->err_text().find("overflow") != std::string::npos));
  return 0;
}

int cmd_race(const std::string& bin, const std::string& dir, unsigned long trials, unsigned long gap_us) {
  Child c(watcher_argv(bin, {"-m", "-r", "-e", "create", "--format", "%w%f", dir}), Out::pipe);
  c.wait_stderr_line(kEstablished, now_ns() + 60 * kSecond);
  LineReader lines(c.out_fd());
  std::vector<bool> seen(trials, false);
  // The generator runs while we read, so that the watcher never blocks on a full pipe.
  pid_t gen = fork_child();
  if (gen == 0) {
    std::string g = self_dir() + "/bench_events", t = std::to_string(trials), u = std::to_string(gap_us);
    ::execl(g.c_str(), g.c_str(), "race", dir.c_str(), t.c_str(), u.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const std::string sentinel = dir + "/zz-sentinel";
  const std::string prefix = dir + "/t";
  const std::string suffix = "/a/b/c/f";
  bool generator_done = false, sentinel_made = false;
  const Ns deadline = now_ns() + 300 * kSecond;
  for (;;) {
    if (!generator_done) {
      int st;
      if (::waitpid(gen, &st, WNOHANG) == gen) {
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail("bench_events race failed");
        generator_done = true;
      }
    }
    if (generator_done && !sentinel_made) {
      // Everything the trials produced is queued before this.
      int fd = ::open(sentinel.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) fail("creat " + sentinel);
      ::close(fd);
      sentinel_made = true;
    }
    auto line = lines.next(std::min(deadline, now_ns() + 50 * kMs));
    if (!line) {
      if (now_ns() > deadline) fail("timed out waiting for the sentinel; stderr: " + c.err_text());
      c.drain_stderr();
      continue;
    }
    if (*line == sentinel) break;
    if (line->size() > prefix.size() + suffix.size() && line->compare(0, prefix.size(), prefix) == 0 &&
        line->compare(line->size() - suffix.size(), suffix.size(), suffix) == 0) {
      unsigned long i = std::strtoul(line->c_str() + prefix.size(), nullptr, 10);
      if (i < trials) seen[i] = true;
    }
  }
  const long long missed = std::count(seen.begin(), seen.end(), false);
  out("trials", static_cast<long long>(trials));
  out("missed", missed);
  out("missed_pct", 100.0 * static_cast<double>(missed) / static_cast<double>(trials));
  return 0;
}

int cmd_rename(const std::string& bin, const std::string& dir, const std::string& big, const std::string& deep) {
  const std::string from = dir + "/" + big, to = dir + "/" + big + "-renamed";
  const std::string file = to + "/" + deep + "/newfile";
  const std::string expected = to + "/" + deep + "/ CREATE newfile";
  Child c(watcher_argv(bin, {"-m", "-r", dir}), Out::pipe);
  c.wait_stderr_line(kEstablished, now_ns() + 300 * kSecond);
  sleep_ns(100 * kMs);
  LineReader lines(c.out_fd());
  const Ns t0 = now_ns();
  if (::rename(from.c_str(), to.c_str()) != 0) fail("rename " + from + ": " + std::strerror(errno));
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  int err = errno;
  if (fd >= 0) ::close(fd);
  std::optional<std::string> got;
  Ns t1 = 0;
  if (fd >= 0) {
    const std::string tail = " CREATE newfile";
    while (auto line = lines.next(t0 + 120 * kSecond)) {
      if (line->size() >= tail.size() && line->compare(line->size() - tail.size(), tail.size(), tail) == 0) {
        t1 = now_ns();
        got = *line;
        break;
      }
    }
  }
  c.stop();
  // Put the tree back for the next trial.
  ::unlink(file.c_str());
  ::rename(to.c_str(), from.c_str());
  if (fd < 0) fail("creat " + file + ": " + std::strerror(err));
  if (!got) fail("no CREATE newfile line within 120 s; stderr: " + c.err_text());
  out("time_us", static_cast<double>(t1 - t0) / 1e3);
  out("correct", static_cast<long long>(*got == expected));
  if (*got != expected) std::fprintf(stderr, "rename: expected '%s', got '%s'\n", expected.c_str(), got->c_str());
  return 0;
}

// One latency sample: pwrite one byte (a MODIFY) to fd, time until a line arrives on out_fd.
double latency_sample(int fd, Child& c) {
  char buf[4096];
  const Ns t0 = now_ns();
  if (::pwrite(fd, "x", 1, 0) != 1) fail("write to the latency file");
  bool line = false;
  while (!line) {
    pollfd p{c.out_fd(), POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) fail("no line within 10 s of a write; stderr: " + c.err_text());
    ssize_t n = ::read(c.out_fd(), buf, sizeof buf);
    if (n <= 0) fail("the watcher closed its output; stderr: " + c.err_text());
    line = std::memchr(buf, '\n', static_cast<std::size_t>(n)) != nullptr;
  }
  return static_cast<double>(now_ns() - t0) / 1e3;
}

// The time a thread has spent runnable but waiting for a CPU (run_delay, the second field of
// /proc/PID/schedstat; sched-stats.rst), read again and again through one descriptor.
class RunDelay {
 public:
  explicit RunDelay(pid_t pid)
      : fd_(::open(("/proc/" + std::to_string(pid) + "/schedstat").c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) fail("open /proc/PID/schedstat");
  }
  RunDelay(const RunDelay&) = delete;
  RunDelay& operator=(const RunDelay&) = delete;
  ~RunDelay() { ::close(fd_); }
  Ns now() const {
    char buf[128];
    ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    if (n <= 0) fail("read /proc/PID/schedstat");
    buf[n] = '\0';
    char* end = nullptr;
    std::strtoll(buf, &end, 10);
    return std::strtoll(end, nullptr, 10);
  }

 private:
  int fd_;
};

// The p-th quantile of sorted samples (the sample at rank floor(p * n)).
double quantile(const std::vector<double>& sorted, double p) {
  return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * static_cast<double>(sorted.size())))];
}

void out_percentiles(const char* prefix, std::vector<double> us, bool with_max = true) {
  std::sort(us.begin(), us.end());
  const std::string p = prefix;
  out((p + "p50_us").c_str(), quantile(us, 0.50));
  out((p + "p99_us").c_str(), quantile(us, 0.99));
  if (with_max) out((p + "max_us").c_str(), us.back());
}

// The pause after a latency sample: 1-3 ms, from one seeded sequence, the same for every program.
constexpr int kMinGapUs = 1000, kMaxGapUs = 3000;
constexpr unsigned kGapSeed = 12345;
// Between "Watches established." and the first write: the watcher reaches its wait.
constexpr Ns kSettleNs = 200 * 1000000LL;

int cmd_latency(const std::string& bin, const std::string& dir, unsigned long count) {
  const std::string file = dir + "/latency-file";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("creat " + file);
  Child c(watcher_argv(bin, {"-m", "-r", dir}), Out::pipe);
  c.wait_stderr_line(kEstablished, now_ns() + 60 * kSecond);
  sleep_ns(kSettleNs);
  std::mt19937 rng(kGapSeed);
  std::uniform_int_distribution<int> gap_us(kMinGapUs, kMaxGapUs);
  std::vector<double> us;
  us.reserve(count);
  for (unsigned long i = 0; i < count; ++i) {
    us.push_back(latency_sample(fd, c));
    sleep_ns(static_cast<Ns>(gap_us(rng)) * 1000);
  }
  ::close(fd);
  out_percentiles("", us);
  return 0;
}

// Pins this process (and so the watchers it starts next) to the last CPU it may run on: the two
// watchers and the writer share one CPU and its load, instead of each watcher sticking to the CPU
// it first woke on (0-1 migrations per trial) and measuring that CPU's neighbours. On 2 CPUs under
// load, pooled runs (7 x 1,000) gave p99 ratios 0.20, 0.90, 1.10 unpinned, 0.69-0.95 with the
// writer on the other CPU (p50 100 us: cross-CPU wake-ups), 0.88-1.05 (5 runs) all on one CPU.
void pin_to_one_cpu() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) fail("sched_getaffinity");
  int last = -1;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &allowed)) last = c;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(last, &one);
  if (::sched_setaffinity(0, sizeof one, &one) != 0) fail("sched_setaffinity");
}

// Both programs in one trial, sample by sample: each watches its own directory (DIR/ref,
// DIR/ours), and the writes alternate between their files, 1-3 ms apart, the first of each pair
// alternating too, so that both see the same machine at that grain; all three processes on one
// CPU (pin_to_one_cpu). Prints "TOOL KEY VALUE" lines: p50, p99, max of COUNT samples each, the
// same net of run-queue waits (net_*), CPU per event; with SAMPLES, appends every sample to that
// file as "TOOL US NET_US" lines, for the pooled percentiles of several trials (latency-pool).
int cmd_latency_pair(const std::string& ref_bin, const std::string& ours_bin, const std::string& dir,
                     unsigned long count, const std::string& samples) {
  struct Side {
    const char* tool;
    std::string bin;
    int fd = -1;
    std::optional<Child> child{};
    std::vector<double> us{};
    std::vector<double> net_us{};  // minus the run-queue waits of the watcher and the writer
    std::optional<RunDelay> delay{};
    Ns cpu_ns = 0;
  };
  Side sides[2] = {{.tool = "ref", .bin = ref_bin}, {.tool = "ours", .bin = ours_bin}};
  pin_to_one_cpu();
  for (Side& s : sides) {
    const std::string d = dir + "/" + s.tool;
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) fail("mkdir " + d + ": " + std::strerror(errno));
    const std::string file = d + "/latency-file";
    s.fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s.fd < 0) fail("creat " + file);
    s.child.emplace(watcher_argv(s.bin, {"-m", "-r", d}), Out::pipe);
    s.child->wait_stderr_line(kEstablished, now_ns() + 60 * kSecond);
    s.delay.emplace(s.child->pid());
    s.us.reserve(count);
    s.net_us.reserve(count);
  }
  sleep_ns(kSettleNs);
  // The time the watcher and this writer were runnable but another task had the CPU: the load's
  // share of a sample (the ms-long tail of a loaded machine is nearly all of it: 4.9 ms -> 110 us).
  RunDelay self_delay(::getpid());
  for (Side& s : sides) s.cpu_ns = cpu_ns(s.child->pid());
  std::mt19937 rng(kGapSeed);
  std::uniform_int_distribution<int> gap_us(kMinGapUs, kMaxGapUs);
  for (unsigned long i = 0; i < count; ++i) {
    for (unsigned k = 0; k < 2; ++k) {
      Side& s = sides[(i + k) % 2];
      const Ns waited = s.delay->now() + self_delay.now();
      const double us = latency_sample(s.fd, *s.child);
      s.us.push_back(us);
      s.net_us.push_back(std::max(0.0, us - static_cast<double>(s.delay->now() + self_delay.now() - waited) / 1e3));
      sleep_ns(static_cast<Ns>(gap_us(rng)) * 1000);
    }
  }
  for (Side& s : sides) s.cpu_ns = cpu_ns(s.child->pid()) - s.cpu_ns;
  std::FILE* f = samples.empty() ? nullptr : std::fopen(samples.c_str(), "a");
  if (!samples.empty() && !f) fail("cannot append to " + samples);
  for (Side& s : sides) {
    ::close(s.fd);
    if (f)
      for (std::size_t j = 0; j < s.us.size(); ++j) std::fprintf(f, "%s %.3f %.3f\n", s.tool, s.us[j], s.net_us[j]);
    out_percentiles((std::string(s.tool) + " ").c_str(), s.us);
    out_percentiles((std::string(s.tool) + " net_").c_str(), s.net_us, false);
    // user + system CPU of the watcher per event: what it does per event, whatever the load
    out((std::string(s.tool) + " cpu_us_per_event").c_str(),
        static_cast<double>(s.cpu_ns) / 1e3 / static_cast<double>(count));
  }
  if (f && std::fclose(f) != 0) fail("write " + samples);
  return 0;
}

// The percentiles of every sample of SAMPLES (latency-pair's file), per tool: "TOOL KEY VALUE".
int cmd_latency_pool(const std::string& samples) {
  std::ifstream in(samples);
  if (!in) fail("cannot read " + samples);
  std::vector<double> by_tool[2], net[2];
  const char* const tools[2] = {"ref", "ours"};
  std::string tool;
  double v, n;
  while (in >> tool >> v >> n) {
    by_tool[tool == "ours" ? 1 : 0].push_back(v);
    net[tool == "ours" ? 1 : 0].push_back(n);
  }
  for (int t = 0; t < 2; ++t)
    if (by_tool[t].empty()) fail(std::string("no samples of ") + tools[t] + " in " + samples);
  for (int t = 0; t < 2; ++t) {
    out_percentiles((std::string(tools[t]) + " ").c_str(), by_tool[t]);
    out_percentiles((std::string(tools[t]) + " net_").c_str(), net[t], false);
    out((std::string(tools[t]) + " samples").c_str(), static_cast<long long>(by_tool[t].size()));
  }
  return 0;
}

int dispatch(const std::vector<std::string>& a) {
  auto need = [&](std::size_t n) {
    if (a.size() != n) fail("wrong number of arguments for " + a[0]);
  };
  if (a.empty()) fail("no command");
  const std::string& cmd = a[0];
  if (cmd == "setup") {
    need(4);
    return cmd_setup(a[1], a[2], a[3]);
  }
  if (cmd == "drain") {
    need(5);
    return cmd_drain(a[1], a[2], a[3], parse_ulong(a[4]));
  }
  if (cmd == "cpu") {
    need(5);
    return cmd_cpu(a[1], a[2], parse_ulong(a[3]), parse_ulong(a[4]));
  }
  if (cmd == "burst") {
    need(6);
    return cmd_burst(a[1], a[2], parse_ulong(a[3]), parse_ulong(a[4]), parse_ulong(a[5]));
  }
  if (cmd == "race") {
    need(5);
    return cmd_race(a[1], a[2], parse_ulong(a[3]), parse_ulong(a[4]));
  }
  if (cmd == "rename") {
    need(5);
    return cmd_rename(a[1], a[2], a[3], a[4]);
  }
  if (cmd == "latency") {
    need(4);
    return cmd_latency(a[1], a[2], parse_ulong(a[3]));
  }
  if (cmd == "latency-pair") {
    if (a.size() != 5 && a.size() != 6) fail("wrong number of arguments for " + a[0]);
    return cmd_latency_pair(a[1], a[2], a[3], parse_ulong(a[4]), a.size() == 6 ? a[5] : "");
  }
  if (cmd == "latency-pool") {
    need(2);
    return cmd_latency_pool(a[1]);
  }
  fail("unknown command " + cmd);
}

}  // namespace

// BENCH_NICE=N (set by scripts/bench): run this trial, and everything it starts, at nice N in an
// autogroup of its own. With autogroups (sched_autogroup_enabled), nice only weighs a process
// against others of its session; a session of our own whose autogroup has nice N weighs the trial
// against the other sessions of a shared machine. Both end with the trial.
void apply_priority() {
  const char* n = std::getenv("BENCH_NICE");
  if (!n) return;
  int nice = std::atoi(n);
  ::unsetenv("BENCH_NICE");
  if (::setsid() >= 0) {
    int fd = ::open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      std::string v = std::to_string(nice);
      [[maybe_unused]] auto w = ::write(fd, v.data(), v.size());
      ::close(fd);
    }
  }
  ::setpriority(PRIO_PROCESS, 0, nice);
}

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  // The driver's subshell is our parent: if it goes (Ctrl-C), we go, and our children with us.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  apply_priority();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  try {
    return dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    std::printf("error %s\n", msg.c_str());
    return 1;
  }
}
