// --live for real: in a terminal (a tmux pane, whose screen we capture) and in a pipe.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness.hpp"
#include "support.hpp"

namespace iwtest {
namespace {

using testsupport::mkdir_p;
using testsupport::touch;

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::optional<std::string> find_tmux() {
  for (const char* p : {"/usr/bin/tmux", "/bin/tmux", "/usr/local/bin/tmux"})
    if (::access(p, X_OK) == 0) return std::string(p);
  return std::nullopt;
}

// A private tmux server (its own socket, no user configuration) with one pane.
class Tmux {
 public:
  Tmux(std::string tmux, const TempDir& dir)
      : tmux_(std::move(tmux)), socket_(dir / "tmux.sock"), conf_(dir / "tmux.conf") {
    // Keep the pane (and its screen) after the program exits; no status line: the pane is the
    // whole window.
    testsupport::write_file(conf_, "set -g remain-on-exit on\nset -g status off\n");
  }
  ~Tmux() { (void)run({"kill-server"}); }
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;

  testsupport::RunResult run(std::vector<std::string> args) const {
    std::vector<std::string> argv{tmux_, "-S", socket_, "-f", conf_};
    argv.insert(argv.end(), args.begin(), args.end());
    return testsupport::run(std::move(argv));
  }
  std::vector<std::string> screen() const { return split_lines(run({"capture-pane", "-p", "-t", "iw"}).out); }
  // The whole pane: history (the main screen scrolled off) and what is visible, wrapped lines joined.
  std::string history() const { return run({"capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "iw"}).out; }
  std::string format(const std::string& f) const {
    auto r = run({"display-message", "-p", "-t", "iw", f});
    return r.out.substr(0, r.out.find('\n'));
  }
  // Waits until the visible screen satisfies pred.
  bool wait_screen(const std::function<bool(const std::vector<std::string>&)>& pred,
                   std::chrono::milliseconds timeout = testsupport::kDeadline) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred(screen())) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  std::string dump() const {
    std::string s = "--- screen ---\n";
    for (const auto& l : screen()) s += l + "|\n";
    return s;
  }

 private:
  std::string tmux_;
  std::string socket_;
  std::string conf_;
};

bool has_line(const std::vector<std::string>& lines, const std::string& want) {
  return std::find(lines.begin(), lines.end(), want) != lines.end();
}

std::string two(int i) { return (i < 10 ? "0" : "") + std::to_string(i); }

TEST(Live, RedrawsInPlaceFittedToTheTerminal) {
  auto tmux_bin = find_tmux();
  if (!tmux_bin) GTEST_SKIP() << "tmux is not installed (Debian package tmux)";
  TempDir t("iwlive");
  // 30 directories with 1..30 files each, and one with a name too long for the screen.
  const std::string long_name =
      "a_directory_name_that_is_much_too_long_to_fit_on_one_line_of_a_terminal_that_is_only_100_columns_wide";
  mkdir_p(t / ("d/" + long_name));
  for (int i = 0; i < 30; ++i) mkdir_p(t / ("d/s" + two(i)));

  Tmux tmux(*tmux_bin, t);
  auto started = tmux.run({"new-session", "-d", "-s", "iw", "-x", "100", "-y", "15", "-c", t.path(),
                           // tmux 3.3 does not always show the exit status of a pane's own
                           // process (#{pane_dead_status} stays empty): a shell records it.
                           "bash -c \"'" + ours() + "' --live=0.2 -r d; echo \\$? >status\""});
  ASSERT_EQ(started.exit.code, 0) << started.err;
  ASSERT_TRUE(tmux.wait_screen([](const auto& s) { return !s.empty() && s[0].rfind("inotifywatch: ", 0) == 0; }))
      << tmux.dump();

  for (int i = 0; i < 30; ++i)
    for (int k = 0; k <= i; ++k) touch(t / ("d/s" + two(i) + "/f" + std::to_string(k)));
  for (int k = 0; k < 40; ++k) touch(t / ("d/" + long_name + "/f" + std::to_string(k)));

  // 31 rows, 15 lines: the header, the table's header, 12 rows and one line for the other 19.
  const std::string summary = "... 19 more rows with 570 events";
  // Wait for the redraw that has counted every event (a loaded machine may show earlier ones first).
  ASSERT_TRUE(tmux.wait_screen([&](const auto& s) {
    return s.size() == 15 && s[14] == summary && s[0].find(" 1515 events,") != std::string::npos;
  })) << tmux.dump();
  auto s = tmux.screen();
  EXPECT_TRUE(std::regex_match(
      s[0], std::regex(R"(inotifywatch: 0:00:\d\d elapsed, 1515 events, \d+\.\d events/s, 32 watches)")))
      << s[0];
  EXPECT_EQ(s[1], "total  close_write  open  create  filename");
  EXPECT_EQ(s[2].size(), 100u) << s[2];
  EXPECT_EQ(s[2].substr(0, 37), "120    40           40    40      ...") << s[2];
  EXPECT_EQ(s[2].substr(37), ("d/" + long_name + "/").substr(long_name.size() + 3 - 63)) << s[2];
  EXPECT_EQ(s[3], "90     30           30    30      d/s29/");
  EXPECT_EQ(s[13], "60     20           20    20      d/s19/");
  for (const auto& line : s) EXPECT_LE(line.size(), 100u) << line;

  // A smaller window: redrawn at once (SIGWINCH), fitted again.
  ASSERT_EQ(tmux.run({"resize-window", "-t", "iw", "-x", "60", "-y", "10"}).exit.code, 0);
  ASSERT_TRUE(tmux.wait_screen([](const auto& sc) {
    return sc.size() == 10 && sc[9] == "... 24 more rows with 900 events";
  })) << tmux.dump();
  s = tmux.screen();
  for (const auto& line : s) EXPECT_LE(line.size(), 60u) << line;
  EXPECT_EQ(s[2].substr(0, 37), "120    40           40    40      ...");
  EXPECT_EQ(s[3], "90     30           30    30      d/s29/");

  // Ctrl-C: the live screen goes away and the final table is printed as usual.
  ASSERT_EQ(tmux.run({"send-keys", "-t", "iw", "C-c"}).exit.code, 0);
  ASSERT_TRUE(tmux.wait_screen([&](const auto&) { return tmux.format("#{pane_dead}") == "1"; })) << tmux.dump();
  EXPECT_EQ(testsupport::read_file(t / "status"), "0\n");
  auto all = split_lines(tmux.history());
  auto header = std::find(all.begin(), all.end(), "total  close_write  open  create  filename");
  ASSERT_NE(header, all.end()) << tmux.history();
  std::vector<std::string> table(header + 1, std::min(header + 32, all.end()));
  ASSERT_EQ(table.size(), 31u) << tmux.history();
  EXPECT_EQ(table[0], "120    40           40    40      d/" + long_name + "/");  // whole, not fitted
  EXPECT_EQ(table[1], "90     30           30    30      d/s29/");
  EXPECT_EQ(table[30], "3      1            1     1       d/s00/");
  EXPECT_TRUE(has_line(all, "Finished establishing watches, now collecting statistics.")) << tmux.history();
  for (const auto& line : all) EXPECT_EQ(line.find("inotifywatch: 0:"), std::string::npos) << "live frame left behind";
}

TEST(Live, NotATerminalAppendsTimestampedTables) {
  TempDir t("iwlive");
  mkdir_p(t / "d");
  Process p = start(ours(), {"--live=0.2", "-e", "create", "d"}, t.path());
  ASSERT_TRUE(p.wait_stderr("Finished establishing watches")) << p.describe();
  const std::regex stamp(
      R"(\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \d+:\d\d:\d\d elapsed, (\d+) events?, \d+\.\d events/s, 1 watch)");
  ASSERT_TRUE(p.wait_stdout(", 0 events, ")) << p.describe();
  touch(t / "d/a");
  touch(t / "d/b");
  ASSERT_TRUE(p.wait_stdout(", 2 events, ")) << p.describe();
  ASSERT_TRUE(p.wait_stdout("2      2       d/\n\n")) << p.describe();
  p.signal(SIGINT);
  auto e = p.wait();
  EXPECT_EQ(e.code, 0) << p.describe();
  // Every block: a status line, the table when there is one, an empty line; then the final table.
  auto lines = p.out_lines();
  ASSERT_GE(lines.size(), 4u);
  std::size_t i = 0;
  int blocks = 0;
  while (i < lines.size() && std::regex_match(lines[i], stamp)) {
    ++blocks;
    ++i;
    if (i < lines.size() && lines[i] == "total  create  filename") {
      ASSERT_LT(i + 1, lines.size());
      EXPECT_TRUE(std::regex_match(lines[i + 1], std::regex(R"([12]      [12]       d/)"))) << lines[i + 1];
      i += 2;
    }
    ASSERT_LT(i, lines.size()) << p.describe();
    EXPECT_EQ(lines[i], "") << p.describe();
    ++i;
  }
  EXPECT_GE(blocks, 2) << p.describe();
  EXPECT_EQ(std::vector<std::string>(lines.begin() + static_cast<std::ptrdiff_t>(i), lines.end()),
            (std::vector<std::string>{"total  create  filename", "2      2       d/"}))
      << p.describe();
  EXPECT_EQ(p.err(), "Establishing watches...\nFinished establishing watches, now collecting statistics.\n");
}

TEST(Live, TimeoutStillEndsTheRun) {
  TempDir t("iwlive");
  mkdir_p(t / "d");
  Process p = start(ours(), {"--live", "-t", "1", "d"}, t.path());
  auto e = p.wait();
  EXPECT_EQ(e.code, 0) << p.describe();
  EXPECT_NE(p.out().find("] 0:00:00 elapsed, 0 events, 0.0 events/s, 1 watch\n\n"), std::string::npos) << p.describe();
  EXPECT_EQ(
      p.err(),
      "Establishing watches...\nFinished establishing watches, now collecting statistics.\nNo events occurred.\n");
}

}  // namespace
}  // namespace iwtest
