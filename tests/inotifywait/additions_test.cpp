// The additions of issue 16 against the real kernel: several --exclude/--include all count (D18),
// --exclude-from, --prune (no watches for pruned directories), and --json checked with a real JSON
// parser (python3's json module), hostile names included. (inotifywatch's: tests/inotifywatch.)
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "iwtest.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using testsupport::Process;

class Additions : public testing::Test {
 protected:
  testsupport::TempDir dir{"iwadd"};

  std::unique_ptr<Process> start(const std::string& program, std::vector<std::string> args) {
    args.insert(args.begin(), testsupport::bin(program));
    Process::Options o;
    o.cwd = dir.path();
    o.argv0 = program;
    auto p = std::make_unique<Process>(args, o);
    EXPECT_TRUE(p->wait_stderr("Watches established.")) << p->describe();
    return p;
  }
  void sh(const std::string& script) { iwtest::sh(dir.path(), script); }

  // Runs python3 on script with the file argument; returns what it printed (fails the test
  // unless it exits 0).
  std::string python(const std::string& script, const std::string& file) {
    testsupport::RunResult r = testsupport::run({"/usr/bin/env", "python3", "-c", script, file}, {});
    EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << "python3 failed (is it installed? scripts/setup installs it)\n"
                                                   << r.out << r.err;
    return r.out;
  }
};

bool has_line_with(const std::string& out, const std::string& needle) { return out.find(needle) != std::string::npos; }

TEST_F(Additions, EveryExcludeCountsD18) {
  testsupport::mkdir_p(dir / "d/a");
  testsupport::mkdir_p(dir / "d/b");
  testsupport::mkdir_p(dir / "d/c");
  auto p = start("inotifywait", {"-m", "-r", "-e", "create", "--exclude", "/a/", "--exclude", "/b/", "d"});
  sh("touch d/a/x d/b/y d/c/z");
  ASSERT_TRUE(p->wait_stdout("d/c/ CREATE z\n")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  EXPECT_FALSE(has_line_with(p->out(), "d/a/")) << p->out();  // the first --exclude counts too
  EXPECT_FALSE(has_line_with(p->out(), "d/b/")) << p->out();
}

TEST_F(Additions, EveryIncludeCountsD18) {
  // (--include with --exclude stays the reference's error, message and exit status alike.)
  testsupport::mkdir_p(dir / "d");
  auto p = start("inotifywait", {"-m", "-e", "create", "--include", "x$", "--include", "[^z]z$", "d"});
  sh("touch d/x d/y d/zz d/az");
  ASSERT_TRUE(p->wait_stdout("d/ CREATE az\n")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  EXPECT_EQ(p->out(), "d/ CREATE x\nd/ CREATE az\n");
}

TEST_F(Additions, ExcludeFromReadsOnePatternPerLine) {
  testsupport::mkdir_p(dir / "d");
  testsupport::write_file(dir / "pats", "# comments and blank lines are skipped\n\n\\.tmp$\n~$\n");
  auto p = start("inotifywait", {"-m", "-e", "create", "--exclude-from", "pats", "d"});
  sh("touch d/a.tmp d/b~ d/keep");
  ASSERT_TRUE(p->wait_stdout("d/ CREATE keep\n")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  EXPECT_EQ(p->out(), "d/ CREATE keep\n");
}

TEST_F(Additions, ExcludeFromAMissingFileIsAnError) {
  testsupport::RunResult r =
      testsupport::run({testsupport::bin("inotifywait"), "--exclude-from", dir / "nope", dir / "."}, {});
  EXPECT_TRUE(r.exit.exited && r.exit.code == 1) << r.err;
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
}

TEST_F(Additions, PrunedDirectoriesCostNoWatches) {
  testsupport::mkdir_p(dir / "d/node_modules/x/y");
  testsupport::mkdir_p(dir / "d/src/.git/objects");
  auto p = start("inotifywait", {"-m", "-r", "--prune", "node_modules", "--prune", "/\\.git$", "d"});
  EXPECT_EQ(iwtest::inotify_watches(p->pid()), 2);  // d and d/src
  // A pruned directory that appears later is not watched either; its creation is still printed.
  sh("mkdir d/src/node_modules && touch d/src/node_modules/k d/node_modules/x/f d/src/sentinel");
  ASSERT_TRUE(p->wait_stdout("d/src/ CREATE sentinel\n")) << p->describe();
  EXPECT_TRUE(has_line_with(p->out(), "d/src/ CREATE,ISDIR node_modules\n")) << p->out();
  EXPECT_FALSE(has_line_with(p->out(), "node_modules/")) << p->out();
  EXPECT_FALSE(has_line_with(p->out(), ".git/")) << p->out();
  EXPECT_EQ(iwtest::inotify_watches(p->pid()), 2);
  p->signal(SIGTERM);
  p->wait();
}

TEST_F(Additions, AnInvalidPruneRegexIsNamed) {
  testsupport::RunResult r = testsupport::run({testsupport::bin("inotifywait"), "-r", "--prune", "(", dir / "."}, {});
  EXPECT_TRUE(r.exit.exited && r.exit.code == 1) << r.err;
  EXPECT_EQ(r.err.rfind("'(' is not a valid regular expression for --prune (", 0), 0u) << r.err;
}

// Every line one JSON object; names that are not UTF-8 survive through *_b64; the time is RFC 3339
// with microseconds and an offset; moves share a cookie.
constexpr const char* kCheckEvents = R"PY(
import base64, json, re, sys
raw = open(sys.argv[1], 'rb').read()
assert raw.endswith(b'\n'), 'no final newline'
recs = [json.loads(line) for line in raw.decode('utf-8').split('\n')[:-1]]
time_re = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$')
names = []
cookies = {}
for r in recs:
    assert r['type'] == 'event', r
    assert time_re.match(r['time']), r['time']
    assert isinstance(r['events'], list) and r['events'], r
    assert isinstance(r['dir'], bool), r
    path = base64.b64decode(r['path_b64']) if 'path_b64' in r else r['path'].encode('utf-8')
    name = base64.b64decode(r['file_b64']) if 'file_b64' in r else r['file'].encode('utf-8')
    watch = r['watch'].encode('utf-8')
    assert path == watch + name, (path, watch, name)
    if 'path_b64' in r:
        assert '\ufffd' in r['path'], r  # the lossy form marks what it could not show
    if 'CREATE' in r['events']:
        names.append(name)
    if 'cookie' in r:
        cookies.setdefault(r['cookie'], []).extend(r['events'])
print(len(recs))
for n in names:
    print(base64.b64encode(n).decode())
for c, evs in sorted(cookies.items()):
    print(c != 0, ','.join(evs))
)PY";

TEST_F(Additions, JsonLinesSurviveHostileNames) {
  testsupport::mkdir_p(dir / "d");
  auto p = start("inotifywait", {"-m", "--json", "-e", "create,moved_from,moved_to", "d"});
  // A quote, a backslash, a newline, a tab, a control character, bytes that are not UTF-8, and
  // plain UTF-8 that must stay as it is.
  sh("touch 'd/q\"b\\s' \"d/$(printf 'nl\\nt\\tc\\001')\" \"d/$(printf 'bad\\377\\300x')\" 'd/café €' && "
     "mv d/q* d/moved && touch d/sentinel");
  ASSERT_TRUE(p->wait_stdout("\"sentinel\"")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  testsupport::write_file(dir / "out.json", p->out());
  const std::string got = python(kCheckEvents, dir / "out.json");
  auto b64 = [](std::string_view s) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string o;
    std::size_t i = 0;
    for (; i + 2 < s.size(); i += 3) {
      unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8 | (unsigned char)s[i + 2];
      o += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
    }
    if (s.size() - i == 1) {
      unsigned v = (unsigned char)s[i] << 16;
      o += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
    } else if (s.size() - i == 2) {
      unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8;
      o += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
    }
    return o;
  };
  const std::string want = "7\n" + b64("q\"b\\s") + "\n" + b64("nl\nt\tc\001") + "\n" + b64("bad\377\300x") + "\n" +
                           b64("café €") + "\n" + b64("sentinel") + "\nTrue MOVED_FROM,MOVED_TO\n";
  EXPECT_EQ(got, want) << p->out();
}

// Issue 16 item 5: on a terminal, a long -r setup shows one self-updating progress line, erased
// before "Watches established."; stderr that is not a terminal gets the same bytes as ever.
// LIBWATCH_PROGRESS_DELAY_MS=0 stands in for a setup longer than a second.
constexpr const char* kTwoThousandDirectories =
    "for i in $(seq 20); do for j in $(seq 100); do echo d/$i/$j; done; done | xargs mkdir -p";
constexpr const char* kOnAPty = R"PY(
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.environ['LIBWATCH_PROGRESS_DELAY_MS'] = '0'
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.waitpid(pid, 0)
sys.stdout.write(repr(out))
)PY";

TEST_F(Additions, ProgressLineOnATerminalIsErasedBeforeWatchesEstablished) {
  sh(kTwoThousandDirectories);
  testsupport::RunResult r = testsupport::run(
      {"/usr/bin/env", "python3", "-c", kOnAPty, testsupport::bin("inotifywait"), "-r", "-t", "1", dir / "d"}, {});
  ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.out << r.err;
  const std::string erase = R"(\r\x1b[K)";
  const std::size_t first = r.out.find(erase + "Setting up watches: ");
  const std::size_t established = r.out.find(erase + "Watches established.");
  EXPECT_NE(first, std::string::npos) << r.out;
  EXPECT_NE(established, std::string::npos) << r.out;
  EXPECT_LT(first, established) << r.out;
  EXPECT_EQ(r.out.find("directories watched", established), std::string::npos) << r.out;
}

TEST_F(Additions, NoProgressLineWhenStderrIsNotATerminal) {
  sh(kTwoThousandDirectories);
  Process::Options o;
  o.env["LIBWATCH_PROGRESS_DELAY_MS"] = "0";
  testsupport::RunResult r = testsupport::run({testsupport::bin("inotifywait"), "-r", "-t", "1", dir / "d"}, o);
  EXPECT_EQ(r.err, "Setting up watches.  Beware: since -r was given, this may take a while!\nWatches established.\n");
}

// --json after a queue overflow: an "overflow" record, then a "rescan" record once the watches
// are whole again, every line a JSON object (events before and after included).
constexpr const char* kCheckOverflow = R"PY(
import json, sys
recs = [json.loads(line) for line in open(sys.argv[1], encoding='utf-8').read().split('\n')[:-1]]
types = [r['type'] for r in recs]
o = types.index('overflow')
r = types.index('rescan')
assert o < r, types[o - 2:r + 2]
assert recs[r]['watches'] == 2, recs[r]
assert all(t == 'event' for i, t in enumerate(types) if i not in (o, r)), set(types)
assert recs[-1]['file'] == 'after' and recs[-1]['events'] == ['CREATE'], recs[-1]
print('ok')
)PY";

TEST_F(Additions, JsonReportsAnOverflowAndTheRescan) {
  long queued = 16384;
  std::ifstream("/proc/sys/fs/inotify/max_queued_events") >> queued;
  if (queued > 2'000'000) GTEST_SKIP() << "max_queued_events is " << queued << ": too slow to overflow";
  testsupport::mkdir_p(dir / "d/sub");
  auto p = start("inotifywait", {"-m", "-r", "--json", "-e", "modify,create", "d"});
  // Stop the whole process so that the kernel queue overflows behind it.
  p->signal(SIGSTOP);
  ASSERT_TRUE(iwtest::wait_stopped(p->pid()));
  sh("touch d/a d/b");
  int a = ::open((dir / "d/a").c_str(), O_WRONLY | O_CLOEXEC);
  int b = ::open((dir / "d/b").c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  for (long i = 0; i < queued / 2 + 1000; ++i) {  // alternating: the kernel merges none
    ASSERT_EQ(::pwrite(a, "x", 1, 0), 1);
    ASSERT_EQ(::pwrite(b, "x", 1, 0), 1);
  }
  ::close(a);
  ::close(b);
  p->signal(SIGCONT);
  ASSERT_TRUE(p->wait_stdout("\"type\":\"rescan\"", 60s)) << p->describe();
  sh("touch d/sub/after");
  ASSERT_TRUE(p->wait_stdout("\"file\":\"after\"")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  testsupport::write_file(dir / "out.json", p->out());
  EXPECT_EQ(python(kCheckOverflow, dir / "out.json"), "ok\n");
}

}  // namespace
