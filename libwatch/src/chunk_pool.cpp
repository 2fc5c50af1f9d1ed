#include "chunk_pool.hpp"

#include <sys/mman.h>

#include <cstdint>

namespace libwatch {

namespace {

// kLargeBytes of anonymous memory aligned to kLargeBytes (a huge page needs the alignment), or
// nullptr. Populated: the kernel then writes into it without a fault (madvise(2),
// MADV_POPULATE_WRITE, Linux 5.14; on an older kernel the pages fault in as they are written).
char* map_large() {
  constexpr std::size_t kBytes = Chunk::kLargeBytes;
  void* p = ::mmap(nullptr, 2 * kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t aligned = (start + kBytes - 1) & ~(std::uintptr_t{kBytes} - 1);
  if (aligned > start) ::munmap(p, aligned - start);
  if (const std::uintptr_t end = aligned + kBytes; end < start + 2 * kBytes)
    ::munmap(reinterpret_cast<void*>(end), start + 2 * kBytes - end);
  char* data = reinterpret_cast<char*>(aligned);
  ::madvise(data, kBytes, MADV_HUGEPAGE);
  ::madvise(data, kBytes, MADV_POPULATE_WRITE);
  return data;
}

}  // namespace

void Chunk::Release::operator()(char* p) const noexcept {
  if (mapped)
    ::munmap(p, bytes);
  else
    delete[] p;
}

std::unique_ptr<char, Chunk::Release> Chunk::allocate(Kind kind) {
  if (kind == Kind::large)
    if (char* p = map_large()) return {p, Release{.bytes = kLargeBytes, .mapped = true}};
  // Not zeroed: a page is only touched (and resident) once the kernel writes events into it.
  return {new char[kSmallBytes], Release{.bytes = kSmallBytes, .mapped = false}};
}

Chunk ChunkPool::take(Chunk::Kind kind) {
  if (kind == Chunk::Kind::small && !spare_.empty()) {
    Chunk c = std::move(spare_.back());
    spare_.pop_back();
    c.size = 0;
    return c;
  }
  return Chunk(kind);
}

void ChunkPool::give(Chunk c) {
  if (!c.large() && spare_.size() < kSpareChunks) spare_.push_back(std::move(c));
}  // else freed (or unmapped) here

}  // namespace libwatch
