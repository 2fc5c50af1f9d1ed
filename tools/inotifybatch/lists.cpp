#include "lists.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include <libwatch/fd.hpp>

namespace inotifybatch {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

// A buffered writer of NUL-terminated entries to a new file.
class ListWriter {
 public:
  explicit ListWriter(const std::string& path)
      : path_(path), fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) {
    if (!fd_) fail(path);
  }
  void entry(std::string_view a, std::string_view b = {}) {
    buf_.append(a);
    buf_.append(b);
    buf_.push_back('\0');
    if (buf_.size() >= kFlushAt) flush();
  }
  void flush() {
    std::string_view rest = buf_;
    while (!rest.empty()) {
      const ssize_t n = ::write(fd_.get(), rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail(path_);
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    buf_.clear();
  }
  ~ListWriter() = default;
  ListWriter(const ListWriter&) = delete;
  ListWriter& operator=(const ListWriter&) = delete;

 private:
  static constexpr std::size_t kFlushAt = 1 << 16;
  std::string path_;
  libwatch::Fd fd_;
  std::string buf_;
};

// Every NUL-terminated entry of a file (a missing file has none).
std::vector<std::string> read_entries(const std::string& path) {
  std::vector<std::string> out;
  libwatch::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return out;
    fail(path);
  }
  std::string data, cur;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path);
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  std::size_t start = 0;
  for (std::size_t i = 0; i < data.size(); ++i)
    if (data[i] == '\0') out.emplace_back(data, start, i - start), start = i + 1;
  return out;
}

enum class Kind { missing, dir, other, skipped };  // skipped: below a symlink or a non-directory

// The source as it is now, with the directories above each path looked at once.
class SourceView {
 public:
  explicit SourceView(std::string source) : source_(std::move(source)) {}
  Kind kind(const std::string& rel) const {
    struct stat st {};
    if (::lstat((source_ + rel).c_str(), &st) != 0) return Kind::missing;
    return S_ISDIR(st.st_mode) ? Kind::dir : Kind::other;
  }
  bool real_dir(const std::string& rel) {
    auto it = real_.find(rel);
    if (it != real_.end()) return it->second;
    const bool r = kind(rel) == Kind::dir;
    real_.emplace(rel, r);
    return r;
  }
  // Every directory above rel is a real directory of the source.
  bool under_real_dirs(const std::string& rel) {
    for (std::size_t i = rel.find('/'); i != std::string::npos; i = rel.find('/', i + 1))
      if (!real_dir(rel.substr(0, i))) return false;
    return true;
  }

 private:
  std::string source_;
  std::unordered_map<std::string, bool> real_;
};

}  // namespace

bool write_batch(const std::string& prefix, const Taken& batch) {
  try {
    ListWriter paths(prefix + ".paths");
    for (const auto& p : batch.paths) paths.entry(p);
    paths.flush();
    ListWriter moves(prefix + ".moves");
    for (const auto& [n, o] : batch.moves.pairs()) moves.entry(n), moves.entry(o);
    moves.flush();
  } catch (const std::system_error&) {
    return false;
  }
  return true;
}

Merged merge_batches(const std::string& out, const std::string& source, const std::vector<std::string>& batches) {
  Merged m;
  std::vector<std::string> paths;
  std::unordered_set<std::string> seen;
  Moves moves;
  SourceView probe(source);
  for (const auto& b : batches) {
    for (auto& p : read_entries(b + ".paths"))
      if (!p.empty() && seen.insert(p).second) paths.push_back(std::move(p));
    const auto pairs = read_entries(b + ".moves");
    for (std::size_t i = 0; i + 1 < pairs.size(); i += 2)
      moves.record(pairs[i + 1], pairs[i], probe.kind(pairs[i]) == Kind::dir);
  }
  m.paths = paths.size();
  SourceView src(source);
  std::vector<Kind> kinds;
  kinds.reserve(paths.size());
  std::unordered_set<std::string_view> dirs;  // listed directories: rsync -r sends all below them
  for (const auto& p : paths) {
    kinds.push_back(src.under_real_dirs(p) ? src.kind(p) : Kind::skipped);
    if (kinds.back() == Kind::dir) dirs.insert(p);
  }
  const auto below_listed_dir = [&](const std::string& p) {
    for (std::size_t i = p.find('/'); i != std::string::npos; i = p.find('/', i + 1))
      if (dirs.contains(std::string_view(p).substr(0, i))) return true;
    return false;
  };
  ListWriter send(out + ".send");
  ListWriter del(out + ".deleted");
  for (std::size_t n = 0; n < paths.size(); ++n) {
    const auto& p = paths[n];
    const Kind k = kinds[n];
    if (k == Kind::skipped || (!dirs.empty() && below_listed_dir(p))) continue;
    if (k != Kind::missing) {
      send.entry("./", p), ++m.send;
      if (k == Kind::dir) del.entry("./", p), ++m.deleted;
      continue;
    }
    const std::size_t slash = p.rfind('/');
    if (slash == std::string::npos || src.real_dir(p.substr(0, slash))) {
      send.entry("./", p), ++m.send;
      del.entry("./", p), ++m.deleted, ++m.missing;
    }
  }
  send.flush();
  del.flush();
  ListWriter mv(out + ".moves");
  for (const auto& [n, o] : moves.pairs()) mv.entry(n), mv.entry(o), ++m.moves;
  mv.flush();
  return m;
}

}  // namespace inotifybatch
