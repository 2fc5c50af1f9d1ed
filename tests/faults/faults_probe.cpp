// A tiny libwatch client for the fault tests, run under the fault shim: sets up a recursive,
// followed watch on DIR and reports what is left afterwards, in the table and in the kernel.
//   faults_probe DIR
// prints "error=<errno or 0> table=<watches in the table> kernel=<watches the kernel holds>".
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <libwatch/libwatch.hpp>

namespace {

// The kernel's own list: one "inotify wd:" line per watch in /proc/self/fdinfo/<fd>, for every
// inotify descriptor of this process (the Watcher's is the only one).
int kernel_watches() {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (std::filesystem::read_symlink(e.path(), ec).string() != "anon_inode:inotify") continue;
    std::ifstream in("/proc/self/fdinfo/" + e.path().filename().string());
    std::string line;
    while (std::getline(in, line)) n += line.rfind("inotify wd:", 0) == 0;
  }
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
  std::printf("error=%d table=%zu kernel=%d\n", err, w.watch_count(), kernel_watches());
  return 0;
}
