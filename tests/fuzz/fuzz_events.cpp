// The -e event-list parser and the event-name table: any bytes as a list, checked against the
// reference's table of names (reference §1.2, -e) with D10 (empty elements are ignored); the text of
// any mask names exactly its bits.
#include <strings.h>

#include <optional>
#include <string>

#include <libwatch/event.hpp>
#include <toolcommon/inputs.hpp>

#include "fuzz_input.hpp"

namespace {

struct Name {
  const char* name;
  libwatch::Mask mask;
};
constexpr Name kNames[] = {
    {"access", IN_ACCESS},
    {"modify", IN_MODIFY},
    {"attrib", IN_ATTRIB},
    {"close_write", IN_CLOSE_WRITE},
    {"close_nowrite", IN_CLOSE_NOWRITE},
    {"close", IN_CLOSE},
    {"open", IN_OPEN},
    {"moved_from", IN_MOVED_FROM},
    {"moved_to", IN_MOVED_TO},
    {"move", IN_MOVE},
    {"move_self", IN_MOVE_SELF},
    {"create", IN_CREATE},
    {"delete", IN_DELETE},
    {"delete_self", IN_DELETE_SELF},
    {"unmount", IN_UNMOUNT},
    {"q_overflow", IN_Q_OVERFLOW},
    {"ignored", IN_IGNORED},
    {"isdir", IN_ISDIR},
    {"oneshot", IN_ONESHOT},
    {"all_events", IN_ALL_EVENTS},
};

std::optional<libwatch::Mask> model(std::string_view list) {
  libwatch::Mask m = 0;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = list.find(',', start);
    std::string_view item =
        list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (!item.empty()) {
      bool found = false;
      for (const auto& n : kNames) {
        std::string_view nn(n.name);
        if (nn.size() != item.size()) continue;
        bool eq = true;
        for (std::size_t i = 0; i < nn.size() && eq; ++i) {
          unsigned char c = static_cast<unsigned char>(item[i]);
          if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
          eq = c == static_cast<unsigned char>(nn[i]);
        }
        if (eq) {
          m |= n.mask;
          found = true;
          break;
        }
      }
      if (!found) return std::nullopt;
    }
    if (comma == std::string_view::npos) return m;
    start = comma + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const libwatch::Mask raw = in.u32();
  const char sep = static_cast<char>(in.byte());
  const std::string list = in.rest();

  auto got = toolcommon::parse_event_list(list);
  auto want = model(list);
  if (got != want) fuzz::fail("parse_event_list('" + list + "') differs from the table");
  if (got) {
    // A parsed list renders to names that parse back to a mask holding every bit of it (CLOSE is
    // printed for either close bit, so the way back may add the other one).
    auto text = libwatch::mask_to_text(*got, ',');
    auto back = toolcommon::parse_event_list(text.view());
    if (*got != 0 && (!back || (*back & *got) != *got))
      fuzz::fail("mask_to_text(parse(l)) loses bits for '" + list + "'");
  }
  // Any mask: the text holds exactly the printed names of its bits, joined by sep, or 0x%08x.
  auto text = libwatch::mask_to_text(raw, sep);
  std::string expect;
  for (const auto& e : libwatch::printed_event_names()) {
    if (!(raw & e.mask)) continue;
    if (!expect.empty()) expect += sep;
    expect += e.name;
  }
  if (expect.empty()) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", raw);
    expect = buf;
  }
  if (text.view() != expect)
    fuzz::fail("mask_to_text(" + std::to_string(raw) + ") = '" + std::string(text.view()) + "'");
  return 0;
}
