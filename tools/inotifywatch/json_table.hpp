// --json: the statistics as one JSON document on one line, the same rows in the same order and
// the same columns as the table (so -a/-d and -z apply):
//   {"columns":["total","modify","create"],
//    "rows":[{"path":"d/sub/","total":5,"modify":1,"create":4},{"path":"d/","total":2,...}]}
// A path that is not valid UTF-8 is also given as "path_b64" (toolcommon/json.hpp).
#pragma once

#include <span>
#include <string>

#include "stats.hpp"

namespace inotifywatch {

void render_json_table(std::string& out, const Stats& stats, std::span<const Row> rows, std::span<const int> columns,
                       const PathFn& path_of);

}  // namespace inotifywatch
