// JSON output pieces shared by inotifywait --json and inotifywatch --json.
//
// File names are bytes and JSON text is UTF-8. A string that is valid UTF-8 is written as it is
// (escaped); one that is not is written lossily, each byte that is not part of a valid UTF-8
// sequence replaced by U+FFFD, and its exact bytes are given next to it in base64 under the same
// key with "_b64" appended ("path" and "path_b64"). A reader takes the "_b64" field when present.
// Everything appends to a caller's buffer: no allocation beyond its growth.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace toolcommon {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view s) noexcept;

// s as a JSON string, quotes included: '"', '\\' and control characters escaped, invalid UTF-8
// bytes replaced by U+FFFD.
void append_json_string(std::string_view s, std::string& out);

// RFC 4648 base64 with padding.
void append_base64(std::string_view bytes, std::string& out);

// "key":"value", plus ,"key_b64":"..." when value is not valid UTF-8. No leading comma.
void append_json_name_field(std::string_view key, std::string_view value, std::string& out);

// The current time as RFC 3339 with microseconds and the local UTC offset
// ("2025-12-06T09:17:03.004512+01:00"); the calendar part is computed once per second.
class Rfc3339Clock {
 public:
  void append_now(std::string& out);

 private:
  std::time_t cached_for_ = -1;
  char date_[32] = {};   // "YYYY-MM-DDTHH:MM:SS"
  char offset_[8] = {};  // "+HH:MM"
};

}  // namespace toolcommon
