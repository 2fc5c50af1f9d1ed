// The lazy filesystem mode's bookkeeping that needs no kernel: the bounded cache of directories
// known to lie outside every watched tree, and how a path the kernel gives for a directory is
// split against a root's path. The rules for the whole mode are in fanotify_lazy.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace libwatch {

// Keys (fsid + handle) of directories resolved to a place outside the trees, or inside an
// excluded part. Bounded: a full cache starts again empty (a miss costs one resolution).
class OutsideCache {
 public:
  // 65,536 keys of ~20-30 bytes: about 4 MB at worst, nothing on a tree whose file system is quiet.
  static constexpr std::size_t kCapacity = 65536;

  explicit OutsideCache(std::size_t capacity = kCapacity) : capacity_(capacity) {}
  bool contains(const std::string& key) const { return keys_.count(key) != 0; }
  void insert(const std::string& key) {
    if (keys_.size() >= capacity_) clear();
    keys_.insert(key);
  }
  // A directory was renamed (it may have moved into a tree), a root was added, events were lost.
  void clear() {
    keys_.clear();
    ++clears_;
  }
  std::size_t size() const noexcept { return keys_.size(); }
  std::size_t clears() const noexcept { return clears_; }

 private:
  std::size_t capacity_;
  std::unordered_set<std::string> keys_;
  std::size_t clears_ = 0;
};

// d_path(9) marks a directory that was removed by appending this to its last path.
constexpr std::string_view kDeletedSuffix = " (deleted)";

// path below root (both absolute, as /proc/self/fd links read): its components, in order; empty
// for root itself. False when path is not root nor below it.
inline bool components_below(std::string_view root, std::string_view path, std::vector<std::string_view>& out) {
  out.clear();
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (!path.starts_with(root)) return false;
  std::string_view rest = path.substr(root.size());
  if (root == "/")
    rest = path.substr(1);
  else if (!rest.empty() && rest.front() != '/')
    return false;  // "/a/bc" is not below "/a/b"
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
    const std::size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (!part.empty()) out.push_back(part);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  }
  return true;
}

}  // namespace libwatch
