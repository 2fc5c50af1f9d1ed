// The Reader: the only reader of the backend's descriptor. It moves bytes from the kernel into a
// userspace queue of chunks, bounded by queue_bytes, and hands them to the backend's decoder one
// event at a time. One thread of control: the Watcher's next() (and wait_ready(), for a caller's
// full pipe) waits in wait(), and long work in between (a walk) calls pump() every few
// directories, so that the kernel's queue never fills while the userspace budget lasts. Once the
// budget is spent, pump() stops reading: the kernel's queue fills and reports IN_Q_OVERFLOW, which
// is delivered and repaired like any other overflow. A backlog is read whole, into large chunks
// (chunk_pool.hpp).
#pragma once

#include <signal.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>

#include "backend.hpp"
#include "chunk_pool.hpp"
#include "libwatch/watcher.hpp"

namespace libwatch {

class Reader {
 public:
  Reader(Backend& backend, std::size_t queue_bytes) : backend_(backend), budget_(queue_bytes) {}

  // Read what the kernel has now, as long as the queue has room; never waits. True when
  // something was read.
  bool pump();
  // The next event of the queue, or nullopt when it is empty. The event's name is valid until the
  // next call.
  std::optional<RawEvent> next();
  // Nothing left in the queue.
  bool empty() const noexcept { return queue_.empty() || (queue_.size() == 1 && pos_ == queue_.front().size); }
  // The last read took all the kernel had (reading again before a wait would find nothing).
  bool drained() const noexcept { return drained_; }
  // When the last bytes were read.
  Clock::time_point read_time() const noexcept { return read_time_; }
  std::size_t queued_bytes() const noexcept { return queued_; }
  // Chunks in the queue (their sizes follow ChunkPool's rule: small for a trickle).
  std::size_t chunks() const noexcept { return queue_.size(); }

  enum class Wake { events, caller, timeout, interrupted };
  // Wait until the kernel has events (unless kernel is false), the caller's descriptor is ready,
  // until passes, or a signal arrives (ppoll(2) with sigmask, when given).
  Wake wait(std::optional<Clock::time_point> until, PollFd also, const sigset_t* sigmask, bool kernel = true);
  // The userspace budget is spent: pump() reads nothing more.
  bool full() const noexcept { return queued_ >= budget_; }

 private:
  Backend& backend_;
  const std::size_t budget_;
  std::deque<Chunk> queue_;  // written at the back, read by next() from pos_ in the front
  ChunkPool pool_;
  std::size_t pos_ = 0;
  std::size_t queued_ = 0;  // bytes in the queue, consumed or not, until their chunk is done
  bool drained_ = false;
  Clock::time_point read_time_{};
};

}  // namespace libwatch
