// Unit tests for inotifywait's format compiler and renderer, CSV quoting, options and output.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "format.hpp"
#include "options.hpp"
#include "output.hpp"
#include "support.hpp"
#include "toolcommon/messages.hpp"

// Counts operator new calls, to check that rendering does not allocate.
namespace {
std::size_t g_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using inotifywait::EventView;
using inotifywait::Format;

std::string render(Format f, const EventView& ev) {
  std::string out;
  f.render(ev, out);
  return out;
}

const EventView kCreate{"d/", "a", IN_CREATE, 0};
const EventView kMkdir{"d/", "x", IN_CREATE | IN_ISDIR, 0};
const EventView kSelf{"f", "", IN_CLOSE_WRITE, 0};

TEST(IwFormat, DefaultHasTrailingSpaceForTheWatchedObject) {
  EXPECT_EQ(render(Format::default_format(), kCreate), "d/ CREATE a\n");
  EXPECT_EQ(render(Format::default_format(), kSelf), "f CLOSE_WRITE,CLOSE \n");
  EXPECT_EQ(render(Format::default_format(), {"", "", IN_Q_OVERFLOW, 0}), " Q_OVERFLOW \n");
}

// The events text comes from a cache with a slot per event bit: every one-bit mask, with and
// without IN_ISDIR, in turn and again, with two separators in one format, reads as composed; so do
// masks of several bits (not cached).
TEST(IwFormat, EventsTextOfEveryMaskAsComposed) {
  Format f = Format::custom("%e|%:e", true, "");
  std::vector<libwatch::Mask> masks;
  for (int bit = 0; bit < 16; ++bit) {
    masks.push_back(libwatch::Mask{1} << bit);
    masks.push_back((libwatch::Mask{1} << bit) | IN_ISDIR);
  }
  masks.push_back(IN_CLOSE_WRITE | IN_OPEN);
  masks.push_back(IN_IGNORED | IN_UNMOUNT | IN_ISDIR);
  for (int round = 0; round < 2; ++round)
    for (libwatch::Mask m : masks) {
      std::string out;
      f.render({"d/", "a", m, 0}, out);
      std::string want(libwatch::mask_to_text(m, ',').view());
      want += '|';
      want += libwatch::mask_to_text(m, ':').view();
      EXPECT_EQ(out, want) << "mask " << m << " round " << round;
    }
}

TEST(IwFormat, AllConversions) {
  auto f = Format::custom("[%w][%f][%e][%:e][%Xe][%c][%%][%z][%0][%n][%we][%.e]", false, "");
  std::string expected = "[d/][a][MOVED_FROM,ISDIR][MOVED_FROM:ISDIR][MOVED_FROMXISDIR][f43c][%][%z][";
  expected += '\0';
  expected += "][\n][d/e][MOVED_FROM.ISDIR]\n";
  EXPECT_EQ(render(f, {"d/", "a", IN_MOVED_FROM | IN_ISDIR, 0xf43c}), expected);
}

TEST(IwFormat, ConversionLettersWinOverEventSeparator) {
  auto f = Format::custom("%:e|%Xe|%%e|%%%e|% e|%e%", false, "");
  EXPECT_EQ(render(f, kMkdir), "CREATE:ISDIR|CREATEXISDIR|%e|%CREATE,ISDIR|CREATE ISDIR|CREATE,ISDIR%\n");
  EXPECT_EQ(render(Format::custom("%ne%0e%ce%fe%we", true, ""), kCreate), std::string("\ne\0e0eaed/e", 11));
  EXPECT_EQ(render(Format::custom("%\ne", true, ""), kMkdir), "CREATE\nISDIR");
}

TEST(IwFormat, TrailingPercentIsPrintedD7) {
  EXPECT_EQ(render(Format::custom("abc%", true, ""), kCreate), "abc%");
  EXPECT_EQ(render(Format::custom("abc%", false, ""), kCreate), "abc%\n");
}

TEST(IwFormat, EmptyAndNameOnlyFormatsD12) {
  EXPECT_EQ(render(Format::custom("", true, ""), kCreate), "");
  EXPECT_EQ(render(Format::custom("", false, ""), kCreate), "\n");
  EXPECT_EQ(render(Format::custom("%f", true, ""), kCreate), "a");
}

TEST(IwFormat, LongLinesArePrintedWholeD15) {
  std::string big(5000, 'X');
  auto f = Format::custom(big + "%w%f%e", false, "");
  std::string name(255, 'n');
  std::string path(3000, 'p');
  EXPECT_EQ(render(f, {path, name, IN_CREATE, 0}), big + path + name + "CREATE\n");
}

TEST(IwFormat, TimeConversion) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  auto f = Format::custom("<%T>", false, "%%|%Y");
  std::string out = render(f, kCreate);
  ASSERT_EQ(out.size(), std::string("<%|2026>\n").size()) << out;
  EXPECT_EQ(out.substr(0, 3), "<%|");
  // D7: an empty expansion leaves the rest of the line alone.
  EXPECT_EQ(render(Format::custom("a%Tb", false, ""), kCreate), "ab\n");
  // A long expansion is not cut.
  std::string longfmt(3000, 'y');
  EXPECT_EQ(render(Format::custom("%T", true, longfmt), kCreate), longfmt);
}

TEST(IwFormat, CookieIsLowercaseHex) {
  EXPECT_EQ(render(Format::custom("%c", true, ""), {"d/", "a", IN_MOVED_TO, 0xABCDEF01}), "abcdef01");
  EXPECT_EQ(render(Format::custom("%c", true, ""), kCreate), "0");
}

TEST(IwCsv, QuotingRules) {
  auto q = [](std::string_view s) {
    std::string out;
    inotifywait::append_csv_field(s, out);
    return out;
  };
  EXPECT_EQ(q("plain"), "plain");
  EXPECT_EQ(q("a b"), "a b");
  EXPECT_EQ(q("c,d"), "\"c,d\"");
  EXPECT_EQ(q("q\"uote"), "\"q\"\"uote\"");
  EXPECT_EQ(q("nl\nx"), "\"nl\nx\"");
  EXPECT_EQ(q(" lead"), "\" lead\"");
  EXPECT_EQ(q("trail "), "\"trail \"");
  EXPECT_EQ(q("tab\tx\r"), "tab\tx\r");
  EXPECT_EQ(q(""), "");
}

TEST(IwCsv, Lines) {
  EXPECT_EQ(render(Format::csv(), kCreate), "d/,CREATE,a\n");
  EXPECT_EQ(render(Format::csv(), kMkdir), "d/,\"CREATE,ISDIR\",x\n");
  EXPECT_EQ(render(Format::csv(), kSelf), "f,\"CLOSE_WRITE,CLOSE\",\n");
  EXPECT_EQ(render(Format::csv(), {"", "", IN_Q_OVERFLOW, 0}), "Q_OVERFLOW,\n");
  EXPECT_EQ(render(Format::csv(), {"co,mma/", "x", IN_CREATE, 0}), "\"co,mma/\",CREATE,x\n");
}

TEST(IwFormat, RenderingReusesTheBuffer) {
  auto f = Format::custom("%w%f %e %c", false, "");
  std::string out;
  out.reserve(1024);
  const char* data = out.data();
  for (int i = 0; i < 20; ++i) f.render(kMkdir, out);
  EXPECT_EQ(out.data(), data) << "the output buffer was reallocated";
}

TEST(IwFormat, RenderingDoesNotAllocate) {
  Format formats[] = {Format::default_format(), Format::csv(),
                      Format::custom("[%w][%f][%e][%:e][%c][%%][%z][%0][%n][%T]", false, "%Y-%m-%d %H:%M:%S")};
  const EventView events[] = {kCreate, kMkdir, kSelf, {"co,mma/", "q\"uote", IN_MOVED_TO, 0x1234}};
  std::string out;
  out.reserve(1 << 20);
  for (auto& f : formats)  // warm up (the %T text buffer is sized once)
    for (const auto& ev : events) f.render(ev, out);
  out.clear();
  std::size_t before = g_allocations;
  for (int i = 0; i < 1000; ++i)
    for (auto& f : formats)
      for (const auto& ev : events) f.render(ev, out);
  EXPECT_EQ(g_allocations - before, 0u);
  EXPECT_GT(out.size(), 100000u);
}

// parse_options is exercised through argv; messages go to stderr, so only outcomes are checked
// here (the texts are compared byte for byte with the reference in compare_test.cpp).
inotifywait::Options parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  static std::string name = "inotifywait";
  argv.push_back(name.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return inotifywait::parse_options(static_cast<int>(args.size() + 1), argv.data());
}

int failure_status(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const toolcommon::Failure& f) {
    return f.status();
  }
  return -1;
}

TEST(IwOptions, Values) {
  auto o = parse({"-mrqq", "-e", "create", "--event=modify,", "-t5", "d", "-P", "--", "-x"});
  EXPECT_TRUE(o.monitor);
  EXPECT_TRUE(o.recursive);
  EXPECT_TRUE(o.no_dereference);
  EXPECT_EQ(o.quiet, 2);
  EXPECT_EQ(o.events, static_cast<libwatch::Mask>(IN_CREATE | IN_MODIFY));
  EXPECT_EQ(o.timeout, 5u);
  EXPECT_EQ(o.operands, (std::vector<std::string>{"d", "-x"}));
}

TEST(IwOptions, DefaultsAndDaemon) {
  auto o = parse({"d"});
  EXPECT_EQ(o.requested(), static_cast<libwatch::Mask>(IN_ALL_EVENTS));
  EXPECT_FALSE(o.monitor);
  auto d = parse({"-d", "-o", "log", "d"});
  EXPECT_TRUE(d.daemon && d.monitor && d.syslog);
  EXPECT_EQ(d.outfile, "log");
}

TEST(IwOptions, LastFormatWinsD11) {
  std::string longer(300, 'L');
  auto o = parse({"--format", "a", "--format", longer, "d"});
  EXPECT_EQ(o.format, longer);
}

TEST(IwOptions, EmptyEventListMeansAllEvents) {
  EXPECT_EQ(parse({"-e", "", "d"}).requested(), static_cast<libwatch::Mask>(IN_ALL_EVENTS));
  EXPECT_EQ(parse({"-e", ",", "d"}).requested(), static_cast<libwatch::Mask>(IN_ALL_EVENTS));
}

TEST(IwOptions, ErrorsExitWithStatus1) {
  EXPECT_EQ(failure_status({"-x", "d"}), 1);
  EXPECT_EQ(failure_status({"-e", "bogus", "d"}), 1);
  EXPECT_EQ(failure_status({"-t", "-1", "d"}), 1);  // D9
  EXPECT_EQ(failure_status({"-c", "--format", "x", "d"}), 1);
  EXPECT_EQ(failure_status({"-d", "d"}), 1);
  EXPECT_EQ(failure_status({"--fromfile", "a", "--fromfile", "b"}), 1);
}

TEST(IwOutput, BatchesUntilFlushed) {
  std::FILE* tmp = std::tmpfile();
  ASSERT_NE(tmp, nullptr);
  int fd = ::fileno(tmp);
  {
    inotifywait::EventOutput out(fd);
    for (int i = 0; i < 100; ++i) {
      out.buffer() += "d/ CREATE x\n";
      out.end_event();
    }
    EXPECT_EQ(out.writes(), 0u);
    out.flush();
    EXPECT_EQ(out.writes(), 1u);
    out.buffer().append(inotifywait::EventOutput::kFlushBytes, 'x');
    out.end_event();
    EXPECT_GE(out.writes(), 2u);
  }
  EXPECT_EQ(::lseek(fd, 0, SEEK_END), static_cast<off_t>(1200u + inotifywait::EventOutput::kFlushBytes));
  std::fclose(tmp);
}

}  // namespace
