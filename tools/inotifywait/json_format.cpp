#include "json_format.hpp"

#include <fmt/format.h>

#include <iterator>

#include <libwatch/event.hpp>

namespace inotifywait {

using toolcommon::append_json_name_field;

void JsonFormat::begin(std::string_view type, std::string& out) {
  out += "{\"type\":\"";
  out += type;
  out += "\",\"time\":\"";
  clock_.append_now(out);
  out += '"';
}

void JsonFormat::render(const EventView& ev, std::string& out) {
  begin("event", out);
  // "path" is %w%f, checked as one string for the _b64 rule (a name glued to a symbolic link's
  // path may complete a UTF-8 sequence the path began). The scratch string keeps its capacity.
  path_.assign(ev.path);
  path_.append(ev.name);
  out += ',';
  append_json_name_field("path", path_, out);
  out += ',';
  append_json_name_field("watch", ev.path, out);
  out += ',';
  append_json_name_field("file", ev.name, out);
  out += ",\"events\":[";
  const libwatch::MaskText names = libwatch::mask_to_text(ev.mask, ',');
  std::string_view list = names.view();
  bool first = true;
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    if (!first) out += ',';
    first = false;
    out += '"';
    out += list.substr(0, comma);
    out += '"';
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  out += "],\"dir\":";
  out += libwatch::is_dir(ev.mask) ? "true" : "false";
  if (ev.cookie != 0) fmt::format_to(std::back_inserter(out), ",\"cookie\":{}", ev.cookie);
  out += "}\n";
}

void JsonFormat::overflow(std::string& out) {
  begin("overflow", out);
  out += "}\n";
}

void JsonFormat::rescan(std::size_t watches, std::string& out) {
  begin("rescan", out);
  fmt::format_to(std::back_inserter(out), ",\"watches\":{}}}\n", watches);
}

}  // namespace inotifywait
