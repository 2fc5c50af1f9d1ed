// A tool's command-line parser (FUZZ_TOOL_INOTIFYWAIT or FUZZ_TOOL_INOTIFYWATCH) with argument
// vectors as input (NUL-separated; the first byte chooses POSIXLY_CORRECT). Properties:
//  - only toolcommon::Failure leaves parse_options (main() catches nothing else in inotifywait,
//    anything else would end in std::terminate and a core dump), always with exit status 1, except
//    for --version (exit 0, nothing on stderr);
//  - the options it accepts are consistent (the reference's checks of §1.3 held).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <toolcommon/messages.hpp>

#include "fuzz_input.hpp"
#include "options.hpp"

namespace fuzz {
extern int report_fd;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The parsers print getopt's messages and --help: keep them out of the log. Under libFuzzer,
  // scripts/fuzz passes -close_fd_mask=3 instead, which keeps libFuzzer's own report (this runs
  // before libFuzzer takes its copy of stderr). A failure then shows as a crash whose artifact,
  // run again by hand, prints the message.
#ifndef LIBWATCH_LIBFUZZER
  fuzz::report_fd = ::dup(2);
  int null = ::open("/dev/null", O_WRONLY);
  ::dup2(null, 1);
  ::dup2(null, 2);
  ::close(null);
#endif
  return 0;
}

namespace {

#if defined(FUZZ_TOOL_INOTIFYWAIT)
constexpr const char* kTool = "inotifywait";
void check(const inotifywait::Options& o) {
  const bool has_format = o.format.has_value();
  if (o.csv && has_format) fuzz::fail("-c and --format both accepted");
  if (o.no_newline && !has_format) fuzz::fail("--no-newline accepted without --format");
  if (o.timefmt && !has_format) fuzz::fail("--timefmt accepted without --format");
  if (has_format && !o.timefmt && o.format->find("%T") != std::string::npos)
    fuzz::fail("%T accepted without --timefmt");
  if (o.daemon && !o.outfile) fuzz::fail("-d accepted without -o");
  if (o.daemon && !o.monitor) fuzz::fail("-d without monitor mode");
  if (!o.regex.conflict().empty()) fuzz::fail("conflicting regex options accepted");
}
#else
constexpr const char* kTool = "inotifywatch";
void check(const inotifywatch::Options& o) {
  if (o.live && !(*o.live > 0 && *o.live <= 86400)) fuzz::fail("--live out of range accepted");
  if (!o.regex.conflict().empty()) fuzz::fail("conflicting regex options accepted");
  if (o.sort.column != inotifywatch::kTotalColumn) {
    if (o.sort.column < 0 || o.sort.column >= static_cast<int>(inotifywatch::kColumns.size()))
      fuzz::fail("sort column out of range");
    if (!(inotifywatch::kColumns[o.sort.column].mask & o.requested())) fuzz::fail("sort key not watched for");
  }
}
#endif

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  if (in.byte() & 1)
    ::setenv("POSIXLY_CORRECT", "1", 1);
  else
    ::unsetenv("POSIXLY_CORRECT");
  std::vector<std::string> args{kTool};
  for (auto& a : in.split_rest()) args.push_back(std::move(a));
  if (args.size() > 64) return 0;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  try {
#if defined(FUZZ_TOOL_INOTIFYWAIT)
    check(inotifywait::parse_options(static_cast<int>(args.size()), argv.data()));
#else
    check(inotifywatch::parse_options(static_cast<int>(args.size()), argv.data()));
#endif
  } catch (const toolcommon::Failure& f) {
    const bool version_asked = std::find(args.begin(), args.end(), "--version") != args.end();
    const bool version_exit = f.status() == toolcommon::kExitOk && version_asked && f.message().empty();
    if (f.status() != toolcommon::kExitFailure && !version_exit)
      fuzz::fail("a parse failure with exit status " + std::to_string(f.status()));
    const std::string_view m = f.message();
    if (!m.empty() && m.back() != '\n') fuzz::fail("a message that does not end its line: " + std::string(m));
  } catch (const std::exception& e) {
    fuzz::fail(std::string("an exception other than Failure escaped parse_options: ") + e.what());
  }
  return 0;
}
