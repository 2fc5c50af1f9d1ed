#include "live.hpp"

#include <algorithm>
#include <iterator>
#include <vector>

#include <fmt/format.h>

namespace inotifywatch {
namespace {

bool is_continuation(unsigned char c) noexcept { return (c & 0xc0) == 0x80; }

// The byte offset where the last `cols` display columns of s begin.
std::size_t tail_start(std::string_view s, std::size_t cols) noexcept {
  std::size_t pos = s.size();
  for (std::size_t seen = 0; pos > 0 && seen < cols; ++seen) {
    --pos;
    while (pos > 0 && is_continuation(static_cast<unsigned char>(s[pos]))) --pos;
  }
  return pos;
}

// The byte offset just after the first `cols` display columns of s.
std::size_t head_end(std::string_view s, std::size_t cols) noexcept {
  std::size_t pos = 0;
  std::size_t seen = 0;
  while (pos < s.size()) {
    if (!is_continuation(static_cast<unsigned char>(s[pos]))) {
      if (seen == cols) break;
      ++seen;
    }
    ++pos;
  }
  return pos;
}

// Control characters would move the cursor: draw them as '?'.
void sanitize(std::string& s, std::size_t from) {
  for (std::size_t i = from; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) s[i] = '?';
  }
}

// A line of at most width columns: plain text is cut at the right edge.
std::string fit(std::string line, std::size_t width) {
  line.resize(head_end(line, width));
  return line;
}

// A table row: numbers, then the path. When too wide, the path keeps its end ("...b/c/").
std::string fit_row(std::string numbers, std::string_view path, std::size_t width) {
  const std::size_t used = display_width(numbers);
  const std::size_t path_cols = display_width(path);
  if (used + path_cols <= width) {
    numbers.append(path);
    return numbers;
  }
  if (used + 4 <= width) {
    numbers += "...";
    numbers.append(path.substr(tail_start(path, width - used - 3)));
    return numbers;
  }
  return fit(std::move(numbers), width);
}

void append_numbers(std::string& out, const Stats& stats, const Row& row, std::span<const int> columns) {
  auto it = std::back_inserter(out);
  fmt::format_to(it, "{:<{}}  ", row.counts[0], kTotalName.size());
  for (int c : columns)
    fmt::format_to(it, "{:<{}}  ", row.counts[stats.slot(c)], kColumns[static_cast<std::size_t>(c)].name.size());
}

}  // namespace

std::size_t display_width(std::string_view s) noexcept {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return !is_continuation(static_cast<unsigned char>(c)); }));
}

std::string elapsed_text(std::chrono::steady_clock::duration elapsed) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
  if (secs < 0) secs = 0;
  return fmt::format("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
}

std::string status_text(const LiveStatus& s) {
  return fmt::format("{} elapsed, {} event{}, {:.1f} events/s, {} watch{}", elapsed_text(s.elapsed), s.events,
                     s.events == 1 ? "" : "s", s.rate, s.watches, s.watches == 1 ? "" : "es");
}

void render_frame(std::string& out, const LiveStatus& status, const Stats& stats, std::span<const Row> rows,
                  std::span<const int> columns, const PathFn& path_of, int width_in, int height_in) {
  const std::size_t width = static_cast<std::size_t>(std::max(width_in, 1));
  const std::size_t height = static_cast<std::size_t>(std::max(height_in, 1));
  std::vector<std::string> lines;
  lines.push_back(fit("inotifywatch: " + status_text(status), width));
  if (height >= 2) {
    if (status.events == 0) {
      lines.push_back(fit("No events occurred.", width));
    } else {
      std::string header{kTotalName};
      header += "  ";
      for (int c : columns) {
        header += kColumns[static_cast<std::size_t>(c)].name;
        header += "  ";
      }
      header += "filename";
      lines.push_back(fit(std::move(header), width));
      const std::size_t room = height - 2;
      std::size_t shown = rows.size();
      if (shown > room) shown = room == 0 ? 0 : room - 1;  // the last line summarises the rest
      std::string path;
      for (std::size_t i = 0; i < shown; ++i) {
        std::string numbers;
        append_numbers(numbers, stats, rows[i], columns);
        path.clear();
        append_row_path(path, rows[i], path_of);
        sanitize(path, 0);
        lines.push_back(fit_row(std::move(numbers), path, width));
      }
      if (shown < rows.size() && room > 0) {
        std::uint64_t rest = 0;
        for (std::size_t i = shown; i < rows.size(); ++i) rest += rows[i].counts[0];
        const std::size_t n = rows.size() - shown;
        lines.push_back(fit(
            fmt::format("... {} more row{} with {} event{}", n, n == 1 ? "" : "s", rest, rest == 1 ? "" : "s"), width));
      }
    }
  }
  // Cursor home, then each line cleared to its end. A line that fills the width leaves the
  // cursor in the last column, where erasing would eat its last character: no erase there.
  out += "\x1b[H";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += lines[i];
    if (display_width(lines[i]) < width) out += "\x1b[K";
    if (i + 1 < lines.size()) out += "\r\n";
  }
  if (lines.size() < height) out += "\r\n\x1b[J";  // clear whatever the previous frame left below
}

void render_log_block(std::string& out, std::string_view timestamp, const LiveStatus& status, const Stats& stats,
                      std::span<const Row> rows, std::span<const int> columns, const PathFn& path_of) {
  out += '[';
  out += timestamp;
  out += "] ";
  out += status_text(status);
  out += '\n';
  if (status.events != 0) render_table(out, stats, rows, columns, path_of);
  out += '\n';
}

}  // namespace inotifywatch
