// The --fromfile reader (and the operand list): any bytes as the file, compared with the
// reference's reading (reference §1.2): fgets(3) into 4096 bytes, so a line longer than 4095 bytes
// becomes several entries and an entry ends at a NUL; one trailing '\n' removed; empty lines and
// a lone '@' skipped; '@X' excludes X. Operands follow the same rules after the file.
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include <toolcommon/inputs.hpp>

#include "fuzz_input.hpp"

namespace {

void add(std::vector<std::string>& paths, std::vector<std::string>& excl, const std::string& e) {
  if (e.empty() || e == "@") return;
  if (e[0] == '@')
    excl.push_back(e.substr(1));
  else
    paths.push_back(e);
}

int memfd = -1;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  // Operands first in the input (a few), then the file.
  const std::uint8_t nops = in.byte() % 4;
  std::vector<std::string> operands;
  for (int i = 0; i < nops; ++i) operands.push_back(in.text());
  const std::string file = in.rest();

  if (memfd < 0) memfd = ::memfd_create("fromfile", 0);
  if (memfd < 0 || ::ftruncate(memfd, 0) != 0 ||
      ::pwrite(memfd, file.data(), file.size(), 0) != static_cast<ssize_t>(file.size()))
    fuzz::fail("memfd");
  const std::string path = "/proc/self/fd/" + std::to_string(memfd);

  std::vector<std::string> paths, excl;
  for (std::size_t i = 0; i < file.size();) {
    // One fgets(buf, 4096): up to 4095 bytes, or through the first '\n'.
    std::size_t n = 0;
    while (n < 4095 && i + n < file.size()) {
      ++n;
      if (file[i + n - 1] == '\n') break;
    }
    std::string piece = file.substr(i, n);
    i += n;
    piece.resize(std::strlen(piece.c_str()));  // the reader sees a C string
    if (!piece.empty() && piece.back() == '\n') piece.pop_back();
    add(paths, excl, piece);
  }
  for (const auto& op : operands) add(paths, excl, op);

  auto list = toolcommon::build_watch_list(path, operands);
  if (!list.diagnostics.empty()) fuzz::fail("diagnostics for a readable file: " + list.diagnostics);
  if (list.paths != paths) fuzz::fail("paths differ from the reference's reading");
  if (list.exclusions != excl) fuzz::fail("exclusions differ from the reference's reading");
  return 0;
}
