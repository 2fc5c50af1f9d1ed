// inotifywatch's additions of issue 16: --prune (no watches for pruned directories) and --json
// (the final table as one document, read back with python3's json module).
#include <csignal>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "harness.hpp"

namespace iwtest {
namespace {

// Watches held by pid (the "inotify wd:" lines of its fdinfo).
int watches_of(pid_t pid) {
  int n = 0;
  const std::string fds = "/proc/" + std::to_string(pid) + "/fdinfo/";
  for (int fd = 0; fd < 64; ++fd) {
    std::ifstream f(fds + std::to_string(fd));
    for (std::string line; std::getline(f, line);)
      if (line.rfind("inotify wd:", 0) == 0) ++n;
  }
  return n;
}

TEST(InotifywatchAdditions, PrunedDirectoriesCostNoWatches) {
  TempDir dir("iwadd");
  testsupport::mkdir_p(dir / "d/node_modules/x");
  testsupport::mkdir_p(dir / "d/src/.git");
  Process p = start(ours(), {"-r", "--prune", "node_modules", "--prune", "/\\.git$", "d"}, dir.path());
  ASSERT_TRUE(p.wait_stderr("now collecting statistics.")) << p.describe();
  EXPECT_EQ(watches_of(p.pid()), 2);  // d and d/src
  p.signal(SIGINT);
  p.wait();
}

constexpr const char* kCheckTable = R"PY(
import json, sys
doc = json.load(open(sys.argv[1], encoding='utf-8'))
assert doc['columns'][0] == 'total', doc
for row in doc['rows']:
    assert row['total'] == sum(row[c] for c in doc['columns'][1:]), row
print(' '.join(doc['columns']))
for row in doc['rows']:
    print(row['path'], row['total'])
)PY";

TEST(InotifywatchAdditions, JsonIsOneDocument) {
  TempDir dir("iwadd");
  testsupport::mkdir_p(dir / "d/sub");
  Process p = start(ours(), {"--json", "-r", "-e", "create,delete", "d"}, dir.path());
  ASSERT_TRUE(p.wait_stderr("now collecting statistics.")) << p.describe();
  testsupport::write_file(dir / "d/a", "");
  testsupport::write_file(dir / "d/sub/b", "");
  testsupport::write_file(dir / "d/sub/c", "");
  ASSERT_EQ(::unlink((dir / "d/sub/c").c_str()), 0);
  ASSERT_TRUE(wait_idle(p.pid())) << p.describe();  // every event counted
  p.signal(SIGINT);
  Exit e = p.wait();
  ASSERT_TRUE(e.exited && e.code == 0) << p.describe();
  testsupport::write_file(dir / "table.json", p.out());
  testsupport::RunResult r = testsupport::run({"/usr/bin/env", "python3", "-c", kCheckTable, dir / "table.json"}, {});
  ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << "python3 (scripts/setup installs it): " << r.err << p.out();
  EXPECT_EQ(r.out, "total create delete\nd/sub/ 3\nd/ 1\n") << p.out();
}

}  // namespace
}  // namespace iwtest
