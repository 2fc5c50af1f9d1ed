// A tiny libwatch client for the fault tests, run under the fault shim: sets up a recursive,
// followed watch on DIR and reports what is left afterwards, in the table and in the kernel.
//   faults_probe DIR
// prints "error=<errno or 0> table=<watches in the table> kernel=<watches the kernel holds>".
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>

#include <libwatch/libwatch.hpp>

namespace {

// The kernel's own list: one "inotify wd:" line per watch in /proc/self/fdinfo/<fd>.
int kernel_watches(int fd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += line.rfind("inotify wd:", 0) == 0;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: faults_probe DIR\n");
    return 2;
  }
  libwatch::Watcher w;
  libwatch::AddOptions opts;
  opts.recursive = true;
  opts.track = true;
  int err = 0;
  try {
    w.add(argv[1], opts);
  } catch (const libwatch::WatchError& e) {
    err = e.code().value();
  }
  std::printf("error=%d table=%zu kernel=%d\n", err, w.watch_count(), kernel_watches(w.inotify_fd()));
  return 0;
}
