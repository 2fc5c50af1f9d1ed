#include <array>
#include <cctype>

#include "libwatch/event.hpp"

namespace libwatch {
namespace {

// The order in which inotifywait prints names. CLOSE follows IGNORED because the reference
// tests the two close bits together after the single-bit names; ISDIR comes last but one.
constexpr std::array<EventName, 18> kPrinted{{
    {"ACCESS", IN_ACCESS},
    {"MODIFY", IN_MODIFY},
    {"ATTRIB", IN_ATTRIB},
    {"CLOSE_WRITE", IN_CLOSE_WRITE},
    {"CLOSE_NOWRITE", IN_CLOSE_NOWRITE},
    {"OPEN", IN_OPEN},
    {"MOVED_FROM", IN_MOVED_FROM},
    {"MOVED_TO", IN_MOVED_TO},
    {"CREATE", IN_CREATE},
    {"DELETE", IN_DELETE},
    {"DELETE_SELF", IN_DELETE_SELF},
    {"UNMOUNT", IN_UNMOUNT},
    {"Q_OVERFLOW", IN_Q_OVERFLOW},
    {"IGNORED", IN_IGNORED},
    {"CLOSE", IN_CLOSE},
    {"MOVE_SELF", IN_MOVE_SELF},
    {"ISDIR", IN_ISDIR},
    {"ONESHOT", IN_ONESHOT},
}};

// Names accepted on input that are never printed.
constexpr std::array<EventName, 2> kInputOnly{{
    {"MOVE", IN_MOVE},
    {"ALL_EVENTS", IN_ALL_EVENTS},
}};

bool iequal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != static_cast<unsigned char>(b[i])) return false;
  }
  return true;
}

}  // namespace

std::span<const EventName> printed_event_names() noexcept { return kPrinted; }

std::optional<Mask> parse_event_name(std::string_view name) noexcept {
  for (const auto& e : kPrinted)
    if (iequal(name, e.name)) return e.mask;
  for (const auto& e : kInputOnly)
    if (iequal(name, e.name)) return e.mask;
  return std::nullopt;
}

MaskText mask_to_text(Mask mask, char sep) noexcept {
  MaskText t;
  for (const auto& e : kPrinted) {
    if (!(mask & e.mask)) continue;
    if (t.size) t.data[t.size++] = sep;
    for (char c : e.name) t.data[t.size++] = c;
  }
  if (t.size == 0) {
    static constexpr char kHex[] = "0123456789abcdef";
    t.data[t.size++] = '0';
    t.data[t.size++] = 'x';
    for (int shift = 28; shift >= 0; shift -= 4) t.data[t.size++] = kHex[(mask >> shift) & 0xf];
  }
  return t;
}

}  // namespace libwatch
