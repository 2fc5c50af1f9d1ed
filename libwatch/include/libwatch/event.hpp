// Events, mask predicates and event names.
#pragma once

#include <sys/inotify.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace libwatch {

using Mask = std::uint32_t;
using WatchId = std::uint32_t;
inline constexpr WatchId kNoWatch = 0xffffffffu;

// Every mask test has a name (and a unit test): a wrong bit test silently breaks bookkeeping.
constexpr bool is_dir(Mask m) noexcept { return (m & IN_ISDIR) != 0; }
constexpr bool is_overflow(Mask m) noexcept { return (m & IN_Q_OVERFLOW) != 0; }
constexpr bool is_ignored(Mask m) noexcept { return (m & IN_IGNORED) != 0; }
constexpr bool is_unmount(Mask m) noexcept { return (m & IN_UNMOUNT) != 0; }
constexpr bool is_create(Mask m) noexcept { return (m & IN_CREATE) != 0; }
constexpr bool is_delete(Mask m) noexcept { return (m & IN_DELETE) != 0; }
constexpr bool is_move_from(Mask m) noexcept { return (m & IN_MOVED_FROM) != 0; }
constexpr bool is_move_to(Mask m) noexcept { return (m & IN_MOVED_TO) != 0; }
constexpr bool is_move_self(Mask m) noexcept { return (m & IN_MOVE_SELF) != 0; }
constexpr bool is_delete_self(Mask m) noexcept { return (m & IN_DELETE_SELF) != 0; }
constexpr bool is_dir_create(Mask m) noexcept { return is_create(m) && is_dir(m); }
constexpr bool is_dir_move_from(Mask m) noexcept { return is_move_from(m) && is_dir(m); }
constexpr bool is_dir_move_to(Mask m) noexcept { return is_move_to(m) && is_dir(m); }
// A new directory appeared in a watched directory (created or moved in).
constexpr bool is_dir_arrival(Mask m) noexcept { return is_dir_create(m) || is_dir_move_to(m); }
// The kernel delivers these whether or not they were asked for (inotify(7)).
constexpr bool is_unrequested_kind(Mask m) noexcept { return (m & (IN_IGNORED | IN_UNMOUNT | IN_Q_OVERFLOW)) != 0; }

// One event. For kernel events the fields are the kernel's; synthetic events (D1: entries found
// by scanning a directory that just appeared) have mask IN_CREATE (| IN_ISDIR) and cookie 0.
struct Event {
  WatchId watch = kNoWatch;  // the watch the event belongs to; kNoWatch for IN_Q_OVERFLOW
  int wd = -1;               // the kernel's watch descriptor (-1 for IN_Q_OVERFLOW)
  Mask mask = 0;
  std::uint32_t cookie = 0;
  std::string_view name;   // entry name; empty for events on the watched object itself.
                           // Valid until the next call to Watcher::next().
  bool synthetic = false;  // produced by a scan, not read from the kernel
};

// Event names as inotifywait spells them, in the order it prints them.
struct EventName {
  std::string_view name;  // upper case, e.g. "CLOSE_WRITE"
  Mask mask;
};
std::span<const EventName> printed_event_names() noexcept;

// The names accepted by -e (case-insensitive): the printed ones plus "close", "move",
// "all_events" (and the internal ones the reference accepts). nullopt for an unknown name.
std::optional<Mask> parse_event_name(std::string_view name) noexcept;

// The mask as text, names joined by sep, in printing order ("CLOSE_WRITE,CLOSE,ISDIR").
// A mask with no known bit is rendered as 0x followed by 8 lowercase hex digits.
struct MaskText {
  char data[256];
  std::size_t size = 0;
  std::string_view view() const noexcept { return {data, size}; }
};
MaskText mask_to_text(Mask mask, char sep = ',') noexcept;

}  // namespace libwatch
