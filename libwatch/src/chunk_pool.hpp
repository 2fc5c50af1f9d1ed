// Memory for the Reader's queue, in chunks. A trickle of events lives in small heap chunks whose
// pages are touched only as the kernel writes into them, so that setup and idle RSS stay small. A
// backlog (a read filled its chunk and more is waiting) goes into large chunks: mapped, with huge
// pages where the kernel gives them, and populated in one call instead of a page fault per 4 KiB
// (82 of ours 484 perf samples of the drain to a pipe were those faults, at c3eb758).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace libwatch {

class Chunk {
 public:
  enum class Kind { small, large };
  // Read sizes: the kernel's queue (16,384 events by default, about 0.5 MiB) fits in 64 KiB reads
  // while it trickles; a backlog of 300,000 events (10 MiB) takes five large chunks.
  static constexpr std::size_t kSmallBytes = 64 * 1024;
  static constexpr std::size_t kLargeBytes = 2 * 1024 * 1024;  // one huge page (x86-64)

  // A large chunk that cannot be mapped is a small one (see capacity()).
  explicit Chunk(Kind kind) : data_(allocate(kind)) {}

  char* data() const noexcept { return data_.get(); }
  std::size_t capacity() const noexcept { return data_.get_deleter().bytes; }
  bool large() const noexcept { return data_.get_deleter().mapped; }

  std::size_t size = 0;  // bytes written by read()

 private:
  struct Release {
    std::size_t bytes = 0;
    bool mapped = false;
    void operator()(char* p) const noexcept;
  };
  static std::unique_ptr<char, Release> allocate(Kind kind);

  std::unique_ptr<char, Release> data_;
};

// Consumed chunks come back here. Small ones are kept for reuse (a stream that never pauses
// allocates nothing); large ones are unmapped at once, so that a burst leaves no RSS behind.
class ChunkPool {
 public:
  // Consumed chunks kept for reuse: enough for a stream that never pauses, little for a burst.
  static constexpr std::size_t kSpareChunks = 4;

  Chunk take(Chunk::Kind kind);
  void give(Chunk c);
  std::size_t spares() const noexcept { return spare_.size(); }

 private:
  std::vector<Chunk> spare_;
};

}  // namespace libwatch
