// --format compiler and renderer, the default format and -c, with arbitrary formats, time formats,
// paths, names, masks and cookies. Each rendering is compared with a direct reading of the
// conversion table (COMPATIBILITY.md, reference §2.4, D7, D15): nothing truncated, nothing lost.
//
// Input: flags byte, format, timefmt (NUL-terminated), then events: path, name, mask, cookie.
#include <ctime>
#include <string>

#include <fmt/format.h>
#include <libwatch/event.hpp>

#include "format.hpp"
#include "fuzz_input.hpp"

namespace {

using inotifywait::EventView;
using inotifywait::Format;

std::string expand_time(const std::string& timefmt) {
  if (timefmt.empty()) return {};
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  // Same bound as the renderer's last attempt: beyond it an expansion counts as empty.
  std::size_t size = std::max<std::size_t>(256, timefmt.size() * 8);
  for (int attempt = 0; attempt < 3; ++attempt, size *= 8) {
    std::string buf(size, '\0');
    std::size_t n = std::strftime(buf.data(), size, timefmt.c_str(), &tm);
    if (n > 0) return buf.substr(0, n);
  }
  return {};
}

// The table, read literally.
std::string model(const std::string& fmt_in, bool no_newline, const std::string& time_text, const EventView& ev) {
  std::string fmt = fmt_in;
  if (!no_newline) fmt += '\n';
  std::string out;
  auto events = [&](char sep) { out += libwatch::mask_to_text(ev.mask, sep).view(); };
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (i + 1 == fmt.size()) {  // D7: a trailing lone '%' is printed
      out += '%';
      break;
    }
    char c = fmt[i + 1];
    switch (c) {
      case '%':
        out += '%';
        ++i;
        continue;
      case '0':
        out += '\0';
        ++i;
        continue;
      case 'n':
        out += '\n';
        ++i;
        continue;
      case 'w':
        out += ev.path;
        ++i;
        continue;
      case 'f':
        out += ev.name;
        ++i;
        continue;
      case 'c':
        out += fmt::format("{:x}", ev.cookie);
        ++i;
        continue;
      case 'e':
        events(',');
        ++i;
        continue;
      case 'T':
        out += time_text;
        ++i;
        continue;
      default:
        break;
    }
    if (i + 2 < fmt.size() && fmt[i + 2] == 'e') {
      events(c);
      i += 2;
      continue;
    }
    out += '%';
    out += c;
    ++i;
  }
  return out;
}

// Reads one CSV record back (the reference's quoting: a field is quoted when it holds '"', ',' or
// '\n' or starts or ends with a space; quotes inside are doubled).
std::vector<std::string> parse_csv(std::string_view s) {
  std::vector<std::string> fields;
  std::string cur;
  std::size_t i = 0;
  for (;;) {
    cur.clear();
    if (i < s.size() && s[i] == '"') {
      ++i;
      for (;;) {
        if (i >= s.size()) fuzz::fail("CSV: unterminated quoted field");
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            cur += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cur += s[i++];
      }
    } else {
      while (i < s.size() && s[i] != ',' && s[i] != '\n') {
        if (s[i] == '"') fuzz::fail("CSV: quote inside an unquoted field");
        cur += s[i++];
      }
    }
    fields.push_back(cur);
    if (i >= s.size()) fuzz::fail("CSV: record without its newline");
    if (s[i] == '\n') {
      if (i + 1 != s.size()) fuzz::fail("CSV: bytes after the record's newline");
      return fields;
    }
    ++i;  // ','
  }
}

std::string show(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\')
      out += static_cast<char>(c);
    else
      out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t flags = in.byte();
  const bool no_newline = flags & 1;
  const std::string fmt = in.text();
  const std::string timefmt = in.text();
  // Keep time formats short enough that an expansion never hits the renderer's growth bound
  // differently from the model's (both stop at the same size anyway).
  if (timefmt.size() > 64) return 0;

  Format custom = Format::custom(fmt, no_newline, timefmt);
  Format csv = Format::csv();
  Format plain = Format::default_format();
  std::string out = "prefix";  // render() appends
  for (int n = 0; n < 8 && !in.empty(); ++n) {
    const std::string path = in.text();
    const std::string name = in.text();
    const libwatch::Mask mask = in.u32();
    const std::uint32_t cookie = in.u32();
    const EventView ev{path, name, mask, cookie};

    // --format
    const std::string before = expand_time(timefmt);
    out.assign("prefix");
    custom.render(ev, out);
    const std::string after = expand_time(timefmt);
    if (out.compare(0, 6, "prefix") != 0) fuzz::fail("render() did not append");
    std::string got = out.substr(6);
    if (got != model(fmt, no_newline, before, ev) && got != model(fmt, no_newline, after, ev))
      fuzz::fail(
          fmt::format("--format '{}' (no_newline {}, timefmt '{}') on [{}][{}] {:#x} {:#x}: got '{}', expected '{}'",
                      show(fmt), no_newline, show(timefmt), show(path), show(name), mask, cookie, show(got),
                      show(model(fmt, no_newline, before, ev))));

    // default format: "%w %,e %f\n"
    out.clear();
    plain.render(ev, out);
    std::string expect = path + " " + std::string(libwatch::mask_to_text(mask, ',').view()) + " " + name + "\n";
    if (out != expect) fuzz::fail(fmt::format("default format: got '{}', expected '{}'", show(out), show(expect)));

    // -c: the fields read back are the fields given
    out.clear();
    csv.render(ev, out);
    auto fields = parse_csv(out);
    std::vector<std::string> want;
    if (!path.empty()) want.push_back(path);
    want.emplace_back(libwatch::mask_to_text(mask, ',').view());
    want.push_back(name);
    if (fields != want)
      fuzz::fail(fmt::format("CSV round trip of [{}][{}]: got '{}'", show(path), show(name), show(out)));
  }
  return 0;
}
