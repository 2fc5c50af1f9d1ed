#include "reader.hpp"

#include <poll.h>

#include <cerrno>

namespace libwatch {

bool Reader::pump() {
  const std::size_t room_needed = backend_.min_read_room();
  bool got = false;
  bool backlog = false;
  while (queued_ < budget_) {
    if (queue_.empty() || queue_.back().capacity() - queue_.back().size < room_needed) {
      // A large chunk only where the budget has room for it: a small budget is kept to a chunk.
      const bool large = backlog && budget_ - queued_ >= Chunk::kLargeBytes;
      queue_.push_back(pool_.take(large ? Chunk::Kind::large : Chunk::Kind::small));
    }
    Chunk& c = queue_.back();
    const std::size_t room = c.capacity() - c.size;
    ssize_t n = backend_.read(c.data() + c.size, room);
    if (n <= 0) {
      // Nothing waiting (or an error, which the next wait reports again).
      drained_ = true;
      break;
    }
    const auto got_bytes = static_cast<std::size_t>(n);
    c.size += got_bytes;
    queued_ += got_bytes;
    got = true;
    // A read that left room for another event took everything there was.
    drained_ = room - got_bytes >= room_needed;
    if (drained_) break;
    // A whole small chunk's worth came at once: the kernel holds a backlog, not a trickle.
    backlog = got_bytes > Chunk::kSmallBytes - room_needed;
  }
  if (got) read_time_ = Clock::now();
  if (!queue_.empty() && queue_.back().size == 0 && queue_.size() > 1) {
    pool_.give(std::move(queue_.back()));
    queue_.pop_back();
  }
  return got;
}

std::optional<RawEvent> Reader::next() {
  while (!queue_.empty()) {
    Chunk& c = queue_.front();
    std::span<const char> bytes(c.data() + pos_, c.size - pos_);
    if (auto ev = backend_.decode(bytes)) {
      pos_ = c.size - bytes.size();
      return ev;
    }
    // The front chunk is used up; the previous event (the last one referring to it) is done with.
    queued_ -= c.size;
    pos_ = 0;
    if (queue_.size() == 1 && !c.large()) {
      c.size = 0;  // kept for the next read
      return std::nullopt;
    }
    // A large chunk is not kept as the last one: the RSS of a burst does not stay.
    pool_.give(std::move(c));
    queue_.pop_front();
  }
  return std::nullopt;
}

Reader::Wake Reader::wait(std::optional<Clock::time_point> until, PollFd also, const sigset_t* sigmask, bool kernel) {
  timespec ts{};
  timespec* tsp = nullptr;
  if (until) {
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(*until - Clock::now()).count();
    if (left < 0) left = 0;
    ts.tv_sec = static_cast<time_t>(left / 1000000000);
    ts.tv_nsec = static_cast<long>(left % 1000000000);
    tsp = &ts;
  }
  // poll(2) skips an entry with a negative fd.
  pollfd p[2] = {{.fd = kernel ? backend_.fd() : -1, .events = POLLIN, .revents = 0},
                 {.fd = also.fd, .events = also.events, .revents = 0}};
  int r = ::ppoll(p, also.fd >= 0 ? 2 : 1, tsp, sigmask);
  if (r < 0) return errno == EINTR ? Wake::interrupted : Wake::timeout;
  if (r == 0) return Wake::timeout;
  if (p[0].revents) {
    drained_ = false;
    return Wake::events;
  }
  return Wake::caller;
}

}  // namespace libwatch
