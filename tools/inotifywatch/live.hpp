// --live: the statistics while they are being collected.
//
// On a terminal the table is redrawn in place (alternate screen, cursor home, every line cleared
// to its end), fitted to the terminal: rows that do not fit are summarised in one line, lines
// wider than the terminal lose the start of their path. Elsewhere (a pipe, a file) a timestamped
// table is appended every interval, so that the output works in logs.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "stats.hpp"

namespace inotifywatch {

struct LiveStatus {
  std::chrono::steady_clock::duration elapsed{};
  std::uint64_t events = 0;  // counted so far
  double rate = 0;           // events per second over the last interval
  std::size_t watches = 0;   // watches in the table now
};

// "0:01:05 elapsed, 1234 events, 15.2 events/s, 42 watches"
std::string status_text(const LiveStatus& status);

// "H:MM:SS"
std::string elapsed_text(std::chrono::steady_clock::duration elapsed);

// Display columns of a UTF-8 string (one per code point; terminals draw most as one cell).
std::size_t display_width(std::string_view s) noexcept;

// One frame for a terminal of width x height cells, drawn from the top-left corner. Lines never
// wrap and the frame never scrolls the screen. Control characters in paths are shown as '?'.
void render_frame(std::string& out, const LiveStatus& status, const Stats& stats, std::span<const Row> rows,
                  std::span<const int> columns, const PathFn& path_of, int width, int height);

// One block for a log: "[timestamp] <status>\n", the table as the reference prints it (nothing
// when no event was counted yet), then an empty line.
void render_log_block(std::string& out, std::string_view timestamp, const LiveStatus& status, const Stats& stats,
                      std::span<const Row> rows, std::span<const int> columns, const PathFn& path_of);

// Escape sequences (ECMA-48 / xterm) for the terminal view.
inline constexpr std::string_view kEnterScreen = "\x1b[?1049h\x1b[?25l";  // alternate screen, hide cursor
inline constexpr std::string_view kLeaveScreen = "\x1b[?25h\x1b[?1049l";  // show cursor, main screen

}  // namespace inotifywatch
