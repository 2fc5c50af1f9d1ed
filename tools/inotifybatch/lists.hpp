// The list files: what the watcher side writes at each batch boundary (DIR/N.paths: relative
// paths, NUL-terminated; DIR/N.moves: new\0origin\0 pairs) and what --merge makes of one or
// more batches for one rsync (OUT.send, OUT.deleted, OUT.moves), checked against the source
// at that moment, the way the driver's batch job checked them in bash.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "batcher.hpp"

namespace inotifybatch {

// Writes prefix.paths and prefix.moves; false (errno set) when a write fails.
bool write_batch(const std::string& prefix, const Taken& batch);

struct Merged {
  std::size_t paths = 0;    // distinct paths of the batches
  std::size_t send = 0;     // entries of OUT.send
  std::size_t deleted = 0;  // entries of OUT.deleted
  std::size_t moves = 0;    // pairs of OUT.moves
  std::size_t missing = 0;  // entries of OUT.deleted that are gone from the source
};

// Merges the batches (prefixes, in the order they were cut) into out.send (every entry "./"
// prefixed, as rsync skips --files-from lines starting with # or ;): each path that exists,
// and each missing one whose parent is a directory (its deletion; a missing parent's deletion
// covers it); never a path below a symlink or a non-directory (rsync would follow it out of
// the source), nor a path below a listed directory (rsync -r sends it). out.deleted: the
// missing ones and the directories among them (what a deletion can come from). out.moves:
// the moves composed over all batches. source ends in '/'.
// Throws std::system_error when a file cannot be read or written.
Merged merge_batches(const std::string& out, const std::string& source, const std::vector<std::string>& batches);

}  // namespace inotifybatch
