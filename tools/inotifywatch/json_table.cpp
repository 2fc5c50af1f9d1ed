#include "json_table.hpp"

#include <iterator>

#include <fmt/format.h>
#include <toolcommon/json.hpp>

namespace inotifywatch {

void render_json_table(std::string& out, const Stats& stats, std::span<const Row> rows, std::span<const int> columns,
                       const PathFn& path_of) {
  auto it = std::back_inserter(out);
  out += "{\"columns\":[\"";
  out += kTotalName;
  out += '"';
  for (int c : columns) fmt::format_to(it, ",\"{}\"", kColumns[static_cast<std::size_t>(c)].name);
  out += "],\"rows\":[";
  std::string path;
  bool first = true;
  for (const Row& row : rows) {
    if (!first) out += ',';
    first = false;
    path.clear();
    append_row_path(path, row, path_of);
    out += '{';
    toolcommon::append_json_name_field("path", path, out);
    fmt::format_to(it, ",\"{}\":{}", kTotalName, row.counts[0]);
    for (int c : columns)
      fmt::format_to(it, ",\"{}\":{}", kColumns[static_cast<std::size_t>(c)].name, row.counts[stats.slot(c)]);
    out += '}';
  }
  out += "]}\n";
}

}  // namespace inotifywatch
