// Event bits the library itself relies on.
#pragma once

#include <cerrno>

#include "libwatch/event.hpp"

namespace libwatch {

// Our own reads of a directory make the kernel report OPEN, ACCESS and CLOSE_NOWRITE on it (and
// on its parent). A walk adds each watch without these bits first and upgrades it after the
// directory and its subtree have been read, so that our own reads never appear as events (D14).
inline constexpr Mask kSelfBits = IN_OPEN | IN_ACCESS | IN_CLOSE_NOWRITE;
// What following a tree needs to hear about (inotify(7), "Dealing with rename() events").
inline constexpr Mask kTrackBits = IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO;

constexpr Mask without_self_bits(Mask m) noexcept {
  Mask r = m & ~kSelfBits;
  // inotify_add_watch(2) refuses a mask with no event bit; UNMOUNT is delivered regardless.
  if (!(r & IN_ALL_EVENTS)) r |= IN_UNMOUNT;
  return r;
}

// Errors that mean "this entry is gone or is no longer a directory": skip it quietly.
constexpr bool vanished(int err) noexcept { return err == ENOENT || err == ENOTDIR || err == ELOOP || err == ESTALE; }
// Errors that no amount of skipping will cure: the walk stops.
constexpr bool hard_limit(int err) noexcept { return err == ENOSPC || err == EMFILE || err == ENFILE || err == ENOMEM; }

}  // namespace libwatch
