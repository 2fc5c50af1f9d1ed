// The workload of scripts/soak, and its accounting.
//
//   soak_workload run ROOT SECONDS    mixed random changes under ROOT for SECONDS: files created,
//       written, renamed, moved across directories, deleted; directories created (also
//       `mkdir -p a/b/c` with a file written at once), renamed, removed with their contents, moved
//       out of the tree; bursts of hundreds of files. The tree stays bounded (it shrinks when it
//       grows past a few thousand entries), so that memory use can be compared over time.
//   soak_workload check ROOT EVENTS   EVENTS is inotifywait's output with --format
//       '%e%0%c%0%w%f%0' --no-newline, from the start of the watch (ROOT empty then). The events
//       are replayed on an empty tree (CREATE adds, DELETE removes, a MOVED_FROM/MOVED_TO pair
//       renames with everything below, an unpaired MOVED_FROM removes, an unpaired MOVED_TO adds)
//       and the result must be the tree on disk: an entry missing from the replay is a change that
//       was never printed (lost), an extra one is a deletion or rename that was never printed.
//       Entries created and removed before the watcher could see them leave no trace on either
//       side, as they should. Exit 1 if anything differs or the queue overflowed.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Workload {
  std::string root;  // as given: the prefix of every printed path
  std::mt19937_64 rng{std::random_device{}()};
  std::set<std::string> dirs{""};  // relative, "" is the root
  std::set<std::string> files;
  std::string outside;  // where directories go when they leave the tree
  unsigned long serial = 0;
  unsigned long ops = 0, events = 0;

  std::string full(const std::string& rel) const { return rel.empty() ? root : root + "/" + rel; }
  // What %w%f prints for an entry: the watched directory's path with its '/', then the name.
  std::string shown(const std::string& rel) const { return root + "/" + rel; }
  void expect(const char*, const std::string&) { ++events; }  // a change inotifywait must print
  template <class C>
  std::string pick(const C& c) {
    auto it = c.begin();
    std::advance(it, std::uniform_int_distribution<std::size_t>(0, c.size() - 1)(rng));
    return *it;
  }
  std::string child(const std::string& dir, const char* kind) {
    std::string name = std::string(kind) + std::to_string(++serial);
    return dir.empty() ? name : dir + "/" + name;
  }
  static std::string parent(const std::string& rel) {
    auto slash = rel.rfind('/');
    return slash == std::string::npos ? "" : rel.substr(0, slash);
  }

  void create_file(const std::string& rel) {
    int fd = ::open(full(rel).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return;
    std::string data(1 + serial % 200, 'x');
    [[maybe_unused]] auto n = ::write(fd, data.data(), data.size());
    ::close(fd);
    files.insert(rel);
    expect("CREATE", rel);
    expect("CLOSE_WRITE,CLOSE", rel);
  }
  void write_file() {
    if (files.empty()) return;
    std::string rel = pick(files);
    int fd = ::open(full(rel).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return;
    [[maybe_unused]] auto n = ::write(fd, "more\n", 5);
    ::close(fd);
    expect("CLOSE_WRITE,CLOSE", rel);
  }
  void make_dir(const std::string& rel) {
    if (::mkdir(full(rel).c_str(), 0755) != 0) return;
    dirs.insert(rel);
    expect("CREATE,ISDIR", rel);
  }
  void delete_file() {
    if (files.empty()) return;
    std::string rel = pick(files);
    if (::unlink(full(rel).c_str()) != 0) return;
    files.erase(rel);
    expect("DELETE", rel);
  }
  void rename_file() {
    if (files.empty()) return;
    std::string from = pick(files);
    std::string to = child(pick(dirs), "m");
    if (::rename(full(from).c_str(), full(to).c_str()) != 0) return;
    files.erase(from);
    files.insert(to);
    expect("MOVED_FROM", from);
    expect("MOVED_TO", to);
  }
  // Everything under rel (itself included), for relabelling or removal.
  std::vector<std::string> under(const std::set<std::string>& s, const std::string& rel) {
    std::vector<std::string> v;
    for (auto it = s.lower_bound(rel + "/"); it != s.end() && it->compare(0, rel.size() + 1, rel + "/") == 0; ++it)
      v.push_back(*it);
    return v;
  }
  void relabel(const std::string& from, const std::string& to) {
    for (const auto& f : under(files, from)) {
      files.erase(f);
      files.insert(to + f.substr(from.size()));
    }
    auto ds = under(dirs, from);
    dirs.erase(from);
    dirs.insert(to);
    for (const auto& d : ds) {
      dirs.erase(d);
      dirs.insert(to + d.substr(from.size()));
    }
  }
  void rename_dir() {
    if (dirs.size() < 2) return;
    std::string from = pick(dirs);
    if (from.empty()) return;
    std::string dest = pick(dirs);
    if (dest == from || dest.compare(0, from.size() + 1, from + "/") == 0) return;  // not into itself
    std::string to = child(dest, "r");
    if (::rename(full(from).c_str(), full(to).c_str()) != 0) return;
    expect("MOVED_FROM,ISDIR", from);
    expect("MOVED_TO,ISDIR", to);
    relabel(from, to);
  }
  void remove_tree(const std::string& rel) {
    // Deepest first, one entry at a time: a DELETE for each, as `rm -r` gives.
    auto ds = under(dirs, rel);
    for (const auto& f : under(files, rel)) {
      if (::unlink(full(f).c_str()) == 0) expect("DELETE", f);
      files.erase(f);
    }
    for (auto it = ds.rbegin(); it != ds.rend(); ++it) {
      if (::rmdir(full(*it).c_str()) == 0) expect("DELETE,ISDIR", *it);
      dirs.erase(*it);
    }
    if (::rmdir(full(rel).c_str()) == 0) expect("DELETE,ISDIR", rel);
    dirs.erase(rel);
  }
  void remove_dir() {
    if (dirs.size() < 2) return;
    std::string rel = pick(dirs);
    if (!rel.empty()) remove_tree(rel);
  }
  void move_out() {
    if (dirs.size() < 2) return;
    std::string rel = pick(dirs);
    if (rel.empty()) return;
    std::string away = outside + "/gone" + std::to_string(++serial);
    if (::rename(full(rel).c_str(), away.c_str()) != 0) return;
    expect("MOVED_FROM,ISDIR", rel);
    for (const auto& f : under(files, rel)) files.erase(f);
    for (const auto& d : under(dirs, rel)) dirs.erase(d);
    dirs.erase(rel);
    std::string cmd = "rm -rf '" + away + "'";
    [[maybe_unused]] int r = std::system(cmd.c_str());
  }
  void mkdir_p_and_write() {
    std::string a = child(pick(dirs), "p");
    std::string b = a + "/q";
    std::string c = b + "/s";
    make_dir(a);
    make_dir(b);
    make_dir(c);
    create_file(c + "/f");
  }
  void burst() {
    std::string dir = std::uniform_int_distribution<int>(0, 1)(rng) ? pick(dirs) : child(pick(dirs), "b");
    if (!dirs.count(dir)) make_dir(dir);
    int n = std::uniform_int_distribution<int>(100, 1500)(rng);
    for (int i = 0; i < n; ++i) create_file(child(dir, "x"));
  }

  void step() {
    ++ops;
    int r = std::uniform_int_distribution<int>(0, 99)(rng);
    if (files.size() > 4000 || dirs.size() > 300) {  // shrink: whole directories, then files
      if (r < 60 && dirs.size() > 1) return remove_dir();
      for (int i = 0; i < 50 && !files.empty(); ++i) delete_file();
      return;
    }
    if (r < 25) return create_file(child(pick(dirs), "f"));
    if (r < 35) return write_file();
    if (r < 45) return make_dir(child(pick(dirs), "d"));
    if (r < 55) return rename_file();
    if (r < 62) return rename_dir();
    if (r < 75) return delete_file();
    if (r < 80) return remove_dir();
    if (r < 83) return move_out();
    if (r < 90) return mkdir_p_and_write();
    if (r < 91) return burst();
  }
};

int run(const std::string& root, double seconds) {
  Workload w;
  w.root = root;
  w.outside = root + ".outside";
  ::mkdir(w.outside.c_str(), 0755);
  const auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < end) {
    w.step();
    // At most kOpsPerSecond on average (a burst is one operation), and now and then a pause, so
    // that the consumers also see the tree at rest.
    constexpr double kOpsPerSecond = 200;
    auto due =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(w.ops / kOpsPerSecond));
    if (due > Clock::now()) std::this_thread::sleep_until(due);
    if (w.ops % 2000 == 0) ::usleep(200000);
  }
  std::printf("workload: %lu operations, %lu changes to print, %zu files and %zu directories at the end\n", w.ops,
              w.events, w.files.size(), w.dirs.size());
  return 0;
}

std::vector<std::string> read_fields(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> v;
  std::size_t start = 0;
  for (std::size_t i = 0; i < data.size(); ++i)
    if (data[i] == '\0') {
      v.push_back(data.substr(start, i - start));
      start = i + 1;
    }
  return v;
}

// The tree on disk under root: "d " or "f " then the path as inotifywait prints it.
void walk(const std::string& dir, const std::string& shown, std::set<std::string>& out) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return;
  while (dirent* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    out.insert((is_dir ? "d " : "f ") + shown + n);
    if (is_dir) walk(dir + "/" + n, shown + n + "/", out);
  }
}

int check(const std::string& root, const std::string& events_file) {
  auto f = read_fields(events_file);
  std::set<std::string> model;  // "d path" / "f path"
  unsigned long printed = 0, overflows = 0;
  auto erase_under = [&](const std::string& entry) {
    model.erase(entry);
    if (entry[0] != 'd') return;
    const std::string prefix = entry.substr(2) + "/";
    for (auto it = model.begin(); it != model.end();)
      it = it->compare(2, prefix.size(), prefix) == 0 ? model.erase(it) : std::next(it);
  };
  auto rename_under = [&](const std::string& old_entry, const std::string& new_entry) {
    std::vector<std::string> moved;
    if (old_entry[0] == 'd') {
      const std::string prefix = old_entry.substr(2) + "/";
      for (const auto& e : model)
        if (e.compare(2, prefix.size(), prefix) == 0) moved.push_back(e);
      for (const auto& e : moved) {
        model.erase(e);
        model.insert(e.substr(0, 2) + new_entry.substr(2) + "/" + e.substr(2 + prefix.size()));
      }
    }
    model.erase(old_entry);
    model.insert(new_entry);
  };
  // A MOVED_FROM pairs with the MOVED_TO right after it (one rename(2), queued back to back);
  // otherwise the entry left the tree.
  std::string pending_cookie, pending_entry;
  auto settle = [&] {
    if (!pending_entry.empty()) erase_under(pending_entry);
    pending_entry.clear();
  };
  for (std::size_t i = 0; i + 2 < f.size(); i += 3) {
    ++printed;
    const std::string& ev = f[i];
    const std::string& cookie = f[i + 1];
    const std::string entry = (ev.find("ISDIR") != std::string::npos ? "d " : "f ") + f[i + 2];
    auto has = [&](const char* name) {
      for (std::size_t pos = 0;;) {
        std::size_t end = ev.find(',', pos);
        if (ev.compare(pos, end == std::string::npos ? std::string::npos : end - pos, name) == 0) return true;
        if (end == std::string::npos) return false;
        pos = end + 1;
      }
    };
    if (has("MOVED_TO") && !pending_entry.empty() && cookie == pending_cookie) {
      rename_under(pending_entry, entry);
      pending_entry.clear();
      continue;
    }
    settle();
    if (has("Q_OVERFLOW")) {
      ++overflows;
    } else if (has("CREATE") || has("MOVED_TO")) {
      model.insert(entry);
    } else if (has("DELETE")) {
      erase_under(entry);
    } else if (has("MOVED_FROM")) {
      pending_cookie = cookie;
      pending_entry = entry;
    }
  }
  settle();
  std::set<std::string> disk;
  walk(root, root + "/", disk);
  std::vector<std::string> lost, extra;
  for (const auto& e : disk)
    if (!model.count(e)) lost.push_back(e);
  for (const auto& e : model)
    if (!disk.count(e)) extra.push_back(e);
  std::printf(
      "printed %lu events; the replay gives %zu entries, the disk holds %zu; %zu never printed, %zu wrongly "
      "printed, %lu overflows\n",
      printed, model.size(), disk.size(), lost.size(), extra.size(), overflows);
  for (std::size_t i = 0; i < lost.size() && i < 15; ++i)
    std::printf("  on disk, not in the events: %s\n", lost[i].c_str());
  for (std::size_t i = 0; i < extra.size() && i < 15; ++i)
    std::printf("  in the events, not on disk: %s\n", extra[i].c_str());
  return lost.empty() && extra.empty() && overflows == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "run") == 0) return run(argv[2], std::stod(argv[3]));
  if (argc == 4 && std::strcmp(argv[1], "check") == 0) return check(argv[2], argv[3]);
  std::fprintf(stderr, "usage: soak_workload run ROOT SECONDS | check ROOT EVENTS\n");
  return 2;
}
