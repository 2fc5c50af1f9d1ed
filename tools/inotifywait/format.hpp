// Event line rendering: the default format, CSV (-c) and --format, compiled once at startup.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <libwatch/event.hpp>

namespace inotifywait {

// What a line is made of.
struct EventView {
  std::string_view path;  // %w: "d/", "d/sub/", "f"; empty for IN_Q_OVERFLOW
  std::string_view name;  // %f: entry name, empty for the watched object itself
  libwatch::Mask mask = 0;
  std::uint32_t cookie = 0;
};

// %T: strftime(3) of the local time, rendered at most once per second.
class TimeText {
 public:
  explicit TimeText(std::string timefmt) : fmt_(std::move(timefmt)) {}
  // The expansion for now (an empty expansion is empty text, D7).
  std::string_view now();

 private:
  std::string fmt_;
  std::time_t cached_for_ = -1;
  std::string text_;
};

class Format {
 public:
  // "%w %,e %f\n"
  static Format default_format();
  // -c: [path,]events,name with the reference's CSV quoting.
  static Format csv();
  // --format: fmt as given; newline appended unless no_newline; timefmt used by %T.
  static Format custom(std::string_view fmt, bool no_newline, const std::string& timefmt);

  // Appends the rendered event to out. Allocates only when out (or the %T cache) must grow.
  void render(const EventView& ev, std::string& out);

 private:
  enum class Kind : std::uint8_t { literal, path, name, events, cookie, time };
  struct Piece {
    Kind kind;
    char sep;                // events: the separator
    std::uint32_t off, len;  // literal: a slice of literals_
  };
  Format() = default;
  void add_literal(std::string_view text);
  void add(Kind kind, char sep = ',');

  // The events text of a mask, from a cache with one slot per event bit (with and without
  // IN_ISDIR): composing it for every event was about 7% of inotifywait's user time in the drain
  // (perf, issue 13), and an 8-slot hash had IN_CREATE and IN_MODIFY in one slot (40% of the drain's
  // events composed again).
  std::string_view events_text(libwatch::Mask mask, char sep);
  struct CachedText {
    libwatch::Mask mask = 0;
    char sep = 0;
    std::uint8_t size = 0;  // 0: unused
    char text[26];          // the longest one-bit text, "CLOSE_NOWRITE,CLOSE,ISDIR", fits
  };
  static constexpr std::size_t kEventBits = 16;  // IN_ACCESS (bit 0) to IN_IGNORED (bit 15)
  static constexpr std::size_t kCachedTexts = 2 * kEventBits;

  bool csv_ = false;
  std::array<CachedText, kCachedTexts> texts_{};
  libwatch::MaskText other_;  // a mask of several event bits (rare): composed each time
  std::vector<Piece> pieces_;
  std::string literals_;
  std::vector<TimeText> time_;  // zero or one
};

// CSV field quoting as the reference does it: quote when the field contains '"', ',' or '\n',
// or starts or ends with a space; double embedded quotes. Appends to out.
void append_csv_field(std::string_view field, std::string& out);

}  // namespace inotifywait
