// The Watcher following a real tree (tmpfs under /dev/shm): arbitrary sequences of mkdir, rename
// inside the tree, rm -r, move out of the tree and move in from outside, with the events consumed
// at arbitrary points. After each sequence, once the Watcher has caught up, its watch table must
// match the disk: one watch per directory, each under the path where the directory is now.
// (The watch table's own bookkeeping is fuzz_watch_table; this one drives libwatch's event
// processing, which needs the kernel's events: there is no seam to feed it synthetic ones.)
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <libwatch/libwatch.hpp>

#include "fuzz_input.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string base;

void disk_dirs(const std::string& dir, const std::string& shown, std::set<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == ".." || e->d_type != DT_DIR) continue;
    out.insert(shown + n + "/");
    disk_dirs(dir + "/" + n, shown + n + "/", out);
  }
  ::closedir(d);
}

// Consumes events until the deadline passes with nothing new. A signal (libFuzzer's SIGALRM
// for -timeout comes every few seconds) only interrupts the wait: go on.
void drain(libwatch::Watcher& w, std::chrono::milliseconds quiet) {
  while (w.next(libwatch::Clock::now() + quiet) || w.interrupted()) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  base = "/dev/shm/rel-fuzz-watcher-" + std::to_string(::getpid());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  std::error_code ec;
  fs::remove_all(base, ec);
  const std::string root = base + "/t";
  const std::string out = base + "/out";
  fs::create_directories(root);
  fs::create_directories(out);
  std::vector<std::string> dirs{""};  // relative to root; "" is the root
  std::vector<std::string> outside;   // relative to out
  std::string log;
  int serial = 0;
  auto pick = [&](std::vector<std::string>& v) -> std::string { return v[in.byte() % v.size()]; };
  auto full = [&](const std::string& rel) { return rel.empty() ? root : root + "/" + rel; };
  auto refresh = [&] {  // the model is the disk: re-read it after each change
    std::set<std::string> s;
    disk_dirs(root, "", s);
    dirs.assign(1, "");
    for (auto x : s) dirs.push_back(x.substr(0, x.size() - 1));
  };

  libwatch::Watcher w;
  libwatch::AddOptions opts;
  opts.recursive = true;
  opts.track = true;
  w.add(root, opts);

  for (int step = 0; step < 48 && !in.empty(); ++step) {
    const std::uint8_t op = in.byte() % 7;
    const std::string name = "n" + std::to_string(++serial);
    switch (op) {
      case 0:
      case 1: {  // mkdir, sometimes mkdir -p
        std::string d = pick(dirs);
        std::string p = (d.empty() ? "" : d + "/") + name;
        if (in.byte() & 1) p += "/a/b";
        fs::create_directories(full(p), ec);
        log += "mkdir -p " + p + "; ";
        break;
      }
      case 2: {  // rename inside the tree
        std::string from = pick(dirs);
        std::string to_parent = pick(dirs);
        if (from.empty() || to_parent == from || to_parent.rfind(from + "/", 0) == 0) break;
        std::string to = (to_parent.empty() ? "" : to_parent + "/") + name;
        ::rename(full(from).c_str(), full(to).c_str());
        log += "mv " + from + " " + to + "; ";
        break;
      }
      case 3: {  // rm -r
        std::string d = pick(dirs);
        if (d.empty()) break;
        fs::remove_all(full(d), ec);
        log += "rm -r " + d + "; ";
        break;
      }
      case 4: {  // out of the tree
        std::string d = pick(dirs);
        if (d.empty()) break;
        ::rename(full(d).c_str(), (out + "/" + name).c_str());
        outside.push_back(name);
        log += "mv " + d + " OUT/" + name + "; ";
        break;
      }
      case 5: {  // into the tree: something from outside, with a subdirectory inside
        std::string src;
        if (!outside.empty() && (in.byte() & 1)) {
          src = outside.back();
          outside.pop_back();
        } else {
          src = name + "x";
          fs::create_directories(out + "/" + src + "/inner", ec);
        }
        std::string d = pick(dirs);
        std::string to = (d.empty() ? "" : d + "/") + name + "in";
        ::rename((out + "/" + src).c_str(), full(to).c_str());
        log += "mv OUT/" + src + " " + to + "; ";
        break;
      }
      case 6:  // let the watcher catch up now
        drain(w, 1ms);
        log += "read; ";
        break;
    }
    refresh();
  }

  // Catch up: an event made now comes after every change above; then let pending moves expire.
  const std::string mark = root + "/sentinel";
  ::close(::open(mark.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  bool seen = false;
  for (auto end = libwatch::Clock::now() + 10s; !seen && libwatch::Clock::now() < end;)
    if (auto ev = w.next(libwatch::Clock::now() + 100ms))
      seen = ev->name == "sentinel" && w.path(ev->watch) == root + "/";
  if (!seen) fuzz::fail("the sentinel event never came: " + log);
  drain(w, 60ms);

  std::set<std::string> want;
  want.insert(root + "/");
  std::set<std::string> rel;
  disk_dirs(root, "", rel);
  for (const auto& r : rel) want.insert(root + "/" + r);
  std::set<std::string> got;
  w.for_each_watch([&](libwatch::WatchId id) { got.insert(w.path(id)); });
  if (got != want || w.watch_count() != want.size()) {
    std::string diff;
    for (const auto& x : want)
      if (!got.count(x)) diff += " missing:" + x.substr(root.size());
    for (const auto& x : got)
      if (!want.count(x)) diff += " extra:" + x.substr(root.size());
    fuzz::fail("the watch table does not match the disk after: " + log + "\n  " + diff);
  }
  return 0;
}
