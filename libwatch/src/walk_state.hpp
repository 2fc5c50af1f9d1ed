// One walker's working state (walker.cpp, parallel_walk.cpp): the directory being visited, its
// open ancestors, and the names of the subdirectories still to visit.
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libwatch/fd.hpp"
#include "walker.hpp"

namespace libwatch {

// Thrown inside a walk to stop it (caught once, in Walker::run_walk); the errno and where.
struct WalkAbort {
  int error;
  std::string path;
};

class Walker::State {
 public:
  State();

  // Open a directory, watch it, read its entries and push it on the stack. False when skipped.
  bool enter(Shared& sh, int pfd, const char* open_name, WatchId parent, std::string_view node_name);
  // Continue the walk on the stack until it is empty.
  void run(Shared& sh);
  // Forget an unfinished walk (the descriptors close with their frames).
  void reset() noexcept;
  // The directory being visited is one of the '@' exclusions.
  bool excluded(const Shared& sh) const;

  std::string path;               // the directory being visited
  std::uint32_t order = 0;        // post-order counter of this walker
  WatchId top = kNoWatch;         // the first entry this walk entered
  std::vector<Warning> warnings;  // handed to the caller by the thread that owns the Watcher
  bool pumps = false;             // this walker's thread owns the Watcher: it pumps the reader

  // A directory on the stack: open, watched, its subdirectories [child_begin, child_end) of
  // child_offs, the next one to visit at child_next.
  struct Frame {
    Fd fd;
    WatchId id;
    int wd;
    std::size_t path_len;
    std::size_t child_begin;
    std::size_t child_next;
    std::size_t child_end;
    std::size_t names_size;
    bool is_new;
    bool root;
  };
  std::vector<Frame> stack;
  std::string child_names;  // NUL-terminated names of subdirectories to visit
  std::vector<std::pair<std::uint32_t, std::uint16_t>> child_offs;

 private:
  void read_entries(Shared& sh, int fd, WatchId id, int wd);
  void finish(Shared& sh, Frame& f);
  void upgrade(Shared& sh, int fd, int expect_wd, bool nofollow);
  void skip_warning(int err);

  std::unique_ptr<char[]> dents_;
  unsigned since_pump_ = 0;
};

}  // namespace libwatch
