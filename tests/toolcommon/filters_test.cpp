// Unit tests for the print filter's additions: every pattern counts (D18), --exclude-from FILE
// (comments, blank lines, CR line ends, its error messages) and the precedence of excludes.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support.hpp"
#include "toolcommon/filters.hpp"
#include "toolcommon/messages.hpp"

namespace {

using toolcommon::Failure;
using toolcommon::Filter;
using toolcommon::RegexOptions;

std::string failure_of(auto&& action) {
  try {
    action();
  } catch (const Failure& f) {
    EXPECT_EQ(f.status(), toolcommon::kExitFailure);
    return std::string(f.message());
  }
  return "no failure";
}

TEST(ToolcommonExcludeFrom, SkipsCommentsAndBlankLinesAndKeepsOrigins) {
  testsupport::TempDir dir;
  testsupport::write_file(dir / "ex",
                          "# build output\n"
                          "\n"
                          "   \t\n"
                          "\\.o$\n"
                          "   # indented comment\n"
                          "^d/cache/\r\n"
                          " lead and trail \n"
                          "last-without-newline");
  RegexOptions o;
  o.add_exclude_file(dir / "ex");
  ASSERT_EQ(o.excludes.size(), 4u);
  EXPECT_EQ(o.excludes[0].regex, "\\.o$");
  EXPECT_EQ(o.excludes[0].origin, (dir / "ex") + ":4");
  EXPECT_EQ(o.excludes[1].regex, "^d/cache/");         // the '\r' of a Windows line end is not part of it
  EXPECT_EQ(o.excludes[2].regex, " lead and trail ");  // spaces inside a pattern are the pattern's
  EXPECT_EQ(o.excludes[3].regex, "last-without-newline");
  EXPECT_FALSE(o.excludes[0].icase);
  // A file's patterns are not the reference's --exclude: no conflict with --include.
  EXPECT_FALSE(o.exclude_given);
  o.set_include("x");
  EXPECT_EQ(o.conflict(), "");
}

TEST(ToolcommonExcludeFrom, AnEmptyFileAddsNothing) {
  testsupport::TempDir dir;
  testsupport::write_file(dir / "ex", "# nothing here\n\n");
  RegexOptions o;
  o.add_exclude_file(dir / "ex");
  EXPECT_TRUE(o.excludes.empty());
  EXPECT_FALSE(Filter(o).active());
}

TEST(ToolcommonExcludeFrom, MissingFileIsOneLine) {
  testsupport::TempDir dir;
  RegexOptions o;
  EXPECT_EQ(failure_of([&] { o.add_exclude_file(dir / "missing"); }),
            "Couldn't read --exclude-from file " + (dir / "missing") + ": No such file or directory\n");
  EXPECT_EQ(failure_of([&] { o.add_exclude_file(dir.path()); }),
            "Couldn't read --exclude-from file " + dir.path() + ": Is a directory\n");
}

TEST(ToolcommonExcludeFrom, BadPatternNamesFileLineAndPattern) {
  testsupport::TempDir dir;
  testsupport::write_file(dir / "ex", "# ok\ngood\n\nbad(\n");
  RegexOptions o;
  o.add_exclude_file(dir / "ex");
  std::string msg = failure_of([&] { Filter f(o); });
  EXPECT_EQ(msg.rfind("Error in --exclude-from file " + (dir / "ex") +
                          ", line 4: 'bad(' is not a valid regular "
                          "expression (",
                      0),
            0u)
      << msg;
  EXPECT_EQ(msg.back(), '\n');
  EXPECT_EQ(msg.find('\n'), msg.size() - 1) << "one line";
}

TEST(ToolcommonExcludeFrom, NulByteIsRejected) {
  testsupport::TempDir dir;
  testsupport::write_file(dir / "ex", std::string("a\nb\0c\n", 6));
  RegexOptions o;
  EXPECT_EQ(failure_of([&] { o.add_exclude_file(dir / "ex"); }),
            "Error in --exclude-from file " + (dir / "ex") + ", line 2: the line holds a NUL byte.\n");
}

// D18: any exclude drops a path, with includes one of them must match, and excludes win.
TEST(ToolcommonRegex, SeveralExcludesAndIncludesWithExcludesWinning) {
  testsupport::TempDir dir;
  testsupport::write_file(dir / "ex", "\\.swp$\n/node_modules/\n");
  RegexOptions o;
  o.add_exclude_file(dir / "ex");
  o.set_include("\\.c$");
  o.set_include("\\.h$");
  Filter f(o);
  EXPECT_TRUE(f.passes("d/a.c"));
  EXPECT_TRUE(f.passes("d/a.h"));
  EXPECT_FALSE(f.passes("d/a.txt"));             // no include matches
  EXPECT_FALSE(f.passes("d/node_modules/x.c"));  // an include matches, an exclude too: excluded
  EXPECT_FALSE(f.passes("d/a.c.swp"));           // excluded, whatever the includes say
  RegexOptions both;
  both.set_exclude("a");
  both.set_exclude("b");
  Filter g(both);
  EXPECT_FALSE(g.passes("xa"));  // the first --exclude counts (the reference keeps only the last)
  EXPECT_FALSE(g.passes("xb"));
  EXPECT_TRUE(g.passes("xc"));
}

// Case: --excludei's patterns ignore case, --exclude's beside them do not.
TEST(ToolcommonRegex, CaseIsPerPattern) {
  RegexOptions o;
  o.set_excludei("\\.TMP$");
  o.set_excludei("^LOG");
  Filter f(o);
  EXPECT_FALSE(f.passes("d/x.tmp"));
  EXPECT_FALSE(f.passes("log/x"));
  EXPECT_TRUE(f.passes("d/x.tmpx"));
  RegexOptions p;
  p.set_exclude("\\.TMP$");
  EXPECT_TRUE(Filter(p).passes("d/x.tmp"));
}

TEST(ToolcommonPrune, CompilesEveryPatternOrNamesTheBadOne) {
  auto list = toolcommon::compile_prune({"/node_modules$", "/\\.git$"});
  EXPECT_TRUE(list.matches("d/node_modules"));
  EXPECT_TRUE(list.matches("d/a/.git"));
  EXPECT_FALSE(list.matches("d/gitx"));
  std::string msg = failure_of([] { toolcommon::compile_prune({"ok", "[z-a]"}); });
  EXPECT_EQ(msg.rfind("'[z-a]' is not a valid regular expression for --prune (", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), msg.size() - 1);
}

}  // namespace
