#include "toolcommon/json.hpp"

#include <time.h>

#include <cstring>

namespace toolcommon {
namespace {

// The length of the valid UTF-8 sequence that starts s[i], or 0 if none does (RFC 3629, table 3-7
// of the Unicode standard: the second byte's range depends on the first).
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // no overlong forms
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

constexpr char kHex[] = "0123456789abcdef";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

bool is_valid_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = utf8_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void append_json_string(std::string_view s, std::string& out) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::size_t n = utf8_length(s, i);
      if (n == 0) {
        out += kReplacement;
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out.append(esc, sizeof esc);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_base64(std::string_view bytes, std::string& out) {
  std::size_t i = 0;
  const auto b = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = b(i) << 16 | b(i + 1) << 8 | b(i + 2);
    const char q[4] = {kBase64[v >> 18], kBase64[(v >> 12) & 63], kBase64[(v >> 6) & 63], kBase64[v & 63]};
    out.append(q, 4);
  }
  if (std::size_t rest = bytes.size() - i; rest > 0) {
    unsigned v = b(i) << 16 | (rest == 2 ? b(i + 1) << 8 : 0u);
    const char q[4] = {kBase64[v >> 18], kBase64[(v >> 12) & 63], rest == 2 ? kBase64[(v >> 6) & 63] : '=', '='};
    out.append(q, 4);
  }
}

void append_json_name_field(std::string_view key, std::string_view value, std::string& out) {
  out += '"';
  out += key;
  out += "\":";
  append_json_string(value, out);
  if (is_valid_utf8(value)) return;
  out += ",\"";
  out += key;
  out += "_b64\":\"";
  append_base64(value, out);
  out += '"';
}

void Rfc3339Clock::append_now(std::string& out) {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  if (ts.tv_sec != cached_for_) {
    cached_for_ = ts.tv_sec;
    std::tm tm{};
    ::localtime_r(&ts.tv_sec, &tm);
    std::strftime(date_, sizeof date_, "%Y-%m-%dT%H:%M:%S", &tm);
    // An offset is less than a day: two digits each for hours and minutes.
    const long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
    const auto hours = static_cast<unsigned>(off / 3600 % 24), minutes = static_cast<unsigned>(off / 60 % 60);
    const char text[7] = {tm.tm_gmtoff < 0 ? '-' : '+',
                          static_cast<char>('0' + hours / 10),
                          static_cast<char>('0' + hours % 10),
                          ':',
                          static_cast<char>('0' + minutes / 10),
                          static_cast<char>('0' + minutes % 10),
                          0};
    std::memcpy(offset_, text, sizeof text);
  }
  // Microseconds: always six digits.
  char frac[7] = {'.'};
  auto us = static_cast<unsigned long>(ts.tv_nsec / 1000);
  for (int i = 6; i >= 1; --i, us /= 10) frac[i] = static_cast<char>('0' + us % 10);
  out += date_;
  out.append(frac, sizeof frac);
  out += offset_;
}

}  // namespace toolcommon
