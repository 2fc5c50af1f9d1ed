// --json: one JSON object per line (JSON lines), for jq and for programs in any language.
//
// An event:
//   {"type":"event","time":"2025-12-06T09:17:03.004512+01:00","path":"d/sub/a","watch":"d/sub/",
//    "file":"a","events":["CLOSE_WRITE","CLOSE"],"dir":false,"cookie":12345}
// path is %w%f, watch %w, file %f (empty for an event on the watched object itself), events the
// names %e prints, in its order; dir is true when ISDIR is among them; cookie only when non-zero.
// A name that is not valid UTF-8 is written lossily and also as "<key>_b64" (toolcommon/json.hpp).
// When events were lost:
//   {"type":"overflow","time":"..."}                 the queue overflowed (the kernel's or ours)
//   {"type":"rescan","time":"...","watches":1234}    the trees were walked again; watches match
//                                                    the disk from here on
#pragma once

#include <cstddef>
#include <string>

#include <toolcommon/json.hpp>

#include "format.hpp"

namespace inotifywait {

class JsonFormat {
 public:
  // Appends one record and its newline to out; allocates only when out must grow.
  void render(const EventView& ev, std::string& out);
  void overflow(std::string& out);
  void rescan(std::size_t watches, std::string& out);

 private:
  void begin(std::string_view type, std::string& out);
  toolcommon::Rfc3339Clock clock_;
  std::string path_;  // %w%f of the event being rendered
};

}  // namespace inotifywait
