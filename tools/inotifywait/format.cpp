#include "format.hpp"

#include <sys/inotify.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <iterator>

#include <fmt/format.h>

namespace inotifywait {

std::string_view TimeText::now() {
  std::time_t t = std::time(nullptr);
  if (t == cached_for_) return text_;
  cached_for_ = t;
  std::tm tm{};
  ::localtime_r(&t, &tm);
  // strftime(3) returns 0 both for an empty expansion and for a buffer that is too small, so
  // grow a few times before taking 0 as "empty" (D7: an empty time leaves the rest of the line
  // intact; D15: no fixed limit).
  std::size_t size = std::max<std::size_t>(256, fmt_.size() * 8);
  for (int attempt = 0; attempt < 3 && !fmt_.empty(); ++attempt, size *= 8) {
    text_.resize(size);
    std::size_t n = std::strftime(text_.data(), size, fmt_.c_str(), &tm);
    if (n > 0) {
      text_.resize(n);
      return text_;
    }
  }
  text_.clear();
  return text_;
}

Format Format::default_format() {
  Format f;
  f.add(Kind::path);
  f.add_literal(" ");
  f.add(Kind::events, ',');
  f.add_literal(" ");
  f.add(Kind::name);
  f.add_literal("\n");
  return f;
}

Format Format::csv() {
  Format f;
  f.csv_ = true;
  return f;
}

Format Format::custom(std::string_view fmt_in, bool no_newline, const std::string& timefmt) {
  Format f;
  std::string fmt(fmt_in);
  if (!no_newline) fmt += '\n';
  for (std::size_t i = 0; i < fmt.size();) {
    char c = fmt[i];
    if (c != '%') {
      std::size_t j = fmt.find('%', i);
      if (j == std::string::npos) j = fmt.size();
      f.add_literal(std::string_view(fmt).substr(i, j - i));
      i = j;
      continue;
    }
    if (i + 1 == fmt.size()) {  // a lone '%' at the very end is printed as is (D7)
      f.add_literal("%");
      break;
    }
    char n = fmt[i + 1];
    i += 2;
    switch (n) {
      case '%':
        f.add_literal("%");
        continue;
      case '0':
        f.add_literal(std::string_view("\0", 1));
        continue;
      case 'n':
        f.add_literal("\n");
        continue;
      case 'w':
        f.add(Kind::path);
        continue;
      case 'f':
        f.add(Kind::name);
        continue;
      case 'c':
        f.add(Kind::cookie);
        continue;
      case 'e':
        f.add(Kind::events, ',');
        continue;
      case 'T':
        if (f.time_.empty()) f.time_.emplace_back(timefmt);
        f.add(Kind::time);
        continue;
      default:
        break;
    }
    // Only when no conversion letter follows '%' is "%Xe" an event list joined with X.
    if (i < fmt.size() && fmt[i] == 'e') {
      f.add(Kind::events, n);
      ++i;
      continue;
    }
    char both[2] = {'%', n};  // an unknown pair is copied as it is
    f.add_literal(std::string_view(both, 2));
  }
  return f;
}

void Format::add_literal(std::string_view text) {
  if (text.empty()) return;
  // Adjacent literals merge into one piece.
  if (!pieces_.empty() && pieces_.back().kind == Kind::literal &&
      pieces_.back().off + pieces_.back().len == literals_.size()) {
    literals_.append(text);
    pieces_.back().len += static_cast<std::uint32_t>(text.size());
    return;
  }
  pieces_.push_back(
      {Kind::literal, 0, static_cast<std::uint32_t>(literals_.size()), static_cast<std::uint32_t>(text.size())});
  literals_.append(text);
}

void Format::add(Kind kind, char sep) { pieces_.push_back({kind, sep, 0, 0}); }

void append_csv_field(std::string_view field, std::string& out) {
  bool quote = field.find_first_of("\",\n") != std::string_view::npos ||
               (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!quote) {
    out.append(field);
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string_view Format::events_text(libwatch::Mask mask, char sep) {
  const libwatch::Mask bits = mask & ~static_cast<libwatch::Mask>(IN_ISDIR);
  if (!std::has_single_bit(bits) || bits >= (libwatch::Mask{1} << kEventBits)) {
    other_ = libwatch::mask_to_text(mask, sep);
    return other_.view();
  }
  CachedText& c = texts_[static_cast<std::size_t>(std::countr_zero(bits)) + ((mask & IN_ISDIR) ? kEventBits : 0)];
  if (c.size == 0 || c.mask != mask || c.sep != sep) {
    const libwatch::MaskText t = libwatch::mask_to_text(mask, sep);
    if (t.size == 0 || t.size > sizeof c.text) {
      other_ = t;
      return other_.view();
    }
    std::memcpy(c.text, t.data, t.size);
    c.size = static_cast<std::uint8_t>(t.size);
    c.mask = mask;
    c.sep = sep;
  }
  return {c.text, c.size};
}

void Format::render(const EventView& ev, std::string& out) {
  if (csv_) {
    // An empty watched path (IN_Q_OVERFLOW) leaves out the first field and its comma.
    if (!ev.path.empty()) {
      append_csv_field(ev.path, out);
      out += ',';
    }
    append_csv_field(events_text(ev.mask, ','), out);
    out += ',';
    append_csv_field(ev.name, out);
    out += '\n';
    return;
  }
  // One time for the whole event, however many %T it has.
  std::string_view when;
  bool have_when = false;
  for (const Piece& p : pieces_) {
    switch (p.kind) {
      case Kind::literal:
        out.append(literals_, p.off, p.len);
        break;
      case Kind::path:
        out.append(ev.path);
        break;
      case Kind::name:
        out.append(ev.name);
        break;
      case Kind::events:
        out.append(events_text(ev.mask, p.sep));
        break;
      case Kind::cookie:
        fmt::format_to(std::back_inserter(out), "{:x}", ev.cookie);
        break;
      case Kind::time:
        if (!have_when) {
          when = time_.front().now();
          have_when = true;
        }
        out.append(when);
        break;
    }
  }
}

}  // namespace inotifywait
