// A program outside the project: watch a tree, create a nested file, expect its events.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <libwatch/libwatch.hpp>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::string dir = argv[1];
  libwatch::Watcher watcher;
  libwatch::AddOptions options;
  options.mask = IN_CREATE;
  options.recursive = true;
  options.track = true;
  watcher.add(dir, options);
  ::mkdir((dir + "/sub").c_str(), 0755);
  ::close(::open((dir + "/sub/file").c_str(), O_CREAT | O_WRONLY, 0644));
  bool saw_dir = false, saw_file = false;
  auto deadline = libwatch::Clock::now() + std::chrono::seconds(30);
  while (!(saw_dir && saw_file)) {
    auto ev = watcher.next(deadline);
    if (!ev) break;
    std::string where = watcher.path(ev->watch);
    if (where == dir + "/" && ev->name == "sub" && libwatch::is_dir_create(ev->mask)) saw_dir = true;
    if (where == dir + "/sub/" && ev->name == "file" && libwatch::is_create(ev->mask)) saw_file = true;
  }
  if (!saw_dir || !saw_file) {
    std::fprintf(stderr, "consumer: expected CREATE events for sub and sub/file (dir %d, file %d)\n", saw_dir,
                 saw_file);
    return 1;
  }
  return 0;
}
