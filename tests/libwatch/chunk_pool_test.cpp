// The Reader's memory: chunks and their pool without a kernel, then the growth rule (small chunks
// for a trickle, large ones for a backlog) against a real inotify queue.
#include <sys/inotify.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backend.hpp"
#include "chunk_pool.hpp"
#include "reader.hpp"
#include "support.hpp"

namespace {

using libwatch::Chunk;
using libwatch::ChunkPool;

TEST(ChunkTest, SmallChunkIsHeapMemoryOfTheSmallSize) {
  Chunk c(Chunk::Kind::small);
  EXPECT_FALSE(c.large());
  EXPECT_EQ(c.capacity(), Chunk::kSmallBytes);
  EXPECT_EQ(c.size, 0u);
  std::memset(c.data(), 'x', c.capacity());  // all of it writable
}

TEST(ChunkTest, LargeChunkIsMappedAlignedAndResident) {
  Chunk c(Chunk::Kind::large);
  ASSERT_TRUE(c.large());
  ASSERT_EQ(c.capacity(), Chunk::kLargeBytes);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(c.data()) % Chunk::kLargeBytes, 0u);
  // Populated before the kernel writes into it: every page is resident already.
  const std::size_t pages = Chunk::kLargeBytes / static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident(pages);
  ASSERT_EQ(::mincore(c.data(), c.capacity(), resident.data()), 0) << std::strerror(errno);
  std::size_t in = 0;
  for (unsigned char r : resident) in += r & 1;
  EXPECT_EQ(in, pages);
  std::memset(c.data(), 'x', c.capacity());
}

TEST(ChunkPoolTest, KeepsConsumedSmallChunksForReuse) {
  ChunkPool pool;
  Chunk a = pool.take(Chunk::Kind::small);
  char* where = a.data();
  a.size = 100;
  pool.give(std::move(a));
  EXPECT_EQ(pool.spares(), 1u);
  Chunk b = pool.take(Chunk::Kind::small);
  EXPECT_EQ(b.data(), where);
  EXPECT_EQ(b.size, 0u);
  EXPECT_EQ(pool.spares(), 0u);
}

TEST(ChunkPoolTest, KeepsAtMostTheSpareCount) {
  ChunkPool pool;
  for (std::size_t i = 0; i < ChunkPool::kSpareChunks + 3; ++i) pool.give(Chunk(Chunk::Kind::small));
  EXPECT_EQ(pool.spares(), ChunkPool::kSpareChunks);
}

TEST(ChunkPoolTest, LargeChunksAreNotKept) {
  ChunkPool pool;
  Chunk c = pool.take(Chunk::Kind::large);
  ASSERT_TRUE(c.large());
  pool.give(std::move(c));
  EXPECT_EQ(pool.spares(), 0u);
  // A large chunk is never handed out from the small spares.
  pool.give(Chunk(Chunk::Kind::small));
  EXPECT_TRUE(pool.take(Chunk::Kind::large).large());
}

// A Reader on a real inotify queue holding `files` IN_CREATE events of one directory.
struct Queued {
  testsupport::TempDir dir;
  std::unique_ptr<libwatch::Backend> backend = libwatch::make_inotify_backend();
  std::size_t events = 0;

  explicit Queued(std::size_t files) {
    EXPECT_GE(backend->add_watch(dir.path().c_str(), IN_CREATE), 0);
    for (std::size_t i = 0; i < files; ++i) testsupport::touch(dir / ("file-with-a-longer-name-" + std::to_string(i)));
    events = files;
  }
  // Everything the reader has queued, counted (and checked to be creates).
  std::size_t delivered(libwatch::Reader& r) {
    std::size_t n = 0;
    while (auto ev = r.next()) {
      EXPECT_TRUE(ev->mask & IN_CREATE);
      ++n;
    }
    return n;
  }
};

// One event is 16 bytes and a 32-byte name here: 8,000 of them (384,000 bytes) fill six small
// chunks, or one small and one large.
constexpr std::size_t kBacklogFiles = 8000;

TEST(ReaderTest, TrickleStaysInOneSmallChunk) {
  Queued q(10);
  libwatch::Reader r(*q.backend, std::size_t{64} << 20);
  EXPECT_TRUE(r.pump());
  EXPECT_TRUE(r.drained());
  EXPECT_EQ(r.chunks(), 1u);
  EXPECT_EQ(q.delivered(r), q.events);
  EXPECT_TRUE(r.empty());
}

TEST(ReaderTest, BacklogIsReadWholeIntoALargeChunk) {
  Queued q(kBacklogFiles);
  libwatch::Reader r(*q.backend, std::size_t{64} << 20);
  EXPECT_TRUE(r.pump());
  EXPECT_TRUE(r.drained());
  EXPECT_EQ(r.queued_bytes(), kBacklogFiles * 48);
  EXPECT_EQ(r.chunks(), 2u);  // the small one it filled, then one large
  EXPECT_EQ(q.delivered(r), q.events);
  // Consumed, the large chunk is not kept as the queue's last one.
  EXPECT_EQ(r.chunks(), 0u);
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.pump());
}

TEST(ReaderTest, SmallBudgetReadsNoLargeChunk) {
  Queued q(kBacklogFiles);
  libwatch::Reader r(*q.backend, Chunk::kSmallBytes);
  EXPECT_TRUE(r.pump());
  EXPECT_FALSE(r.drained());  // the budget stopped it, not the kernel running dry
  // At most one small chunk past the budget (as before large chunks): no large one.
  EXPECT_EQ(r.chunks(), 2u);
  EXPECT_LE(r.queued_bytes(), 2 * Chunk::kSmallBytes);
  std::size_t n = q.delivered(r);
  while (r.pump()) n += q.delivered(r);
  EXPECT_EQ(n, q.events);
}

}  // namespace
