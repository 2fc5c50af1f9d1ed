// A program outside the project, built with nothing but `pkg-config --cflags --libs libwatch`:
// watch a directory, create a file in it, expect the CREATE event.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <libwatch/libwatch.hpp>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  libwatch::Watcher watcher;
  libwatch::AddOptions options;
  options.mask = IN_CREATE;
  watcher.add(dir, options);
  ::close(::open((dir + "/file").c_str(), O_CREAT | O_WRONLY, 0644));
  const auto deadline = libwatch::Clock::now() + std::chrono::seconds(30);
  while (auto ev = watcher.next(deadline)) {
    if (ev->name == "file" && libwatch::is_create(ev->mask)) {
      std::puts("CREATE file");
      return 0;
    }
  }
  std::fprintf(stderr, "consumer: no CREATE event for %s/file\n", dir.c_str());
  return 1;
}
