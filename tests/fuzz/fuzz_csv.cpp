// CSV quoting (-c): any bytes, as one field, read back as the same bytes; quoted exactly when the
// reference quotes (a '"', ',' or '\n' inside, or a space at either end).
#include <string>

#include "format.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string field(reinterpret_cast<const char*>(data), size);
  std::string out = "x,";
  inotifywait::append_csv_field(field, out);
  if (out.compare(0, 2, "x,") != 0) fuzz::fail("append_csv_field did not append");
  std::string_view q(out);
  q.remove_prefix(2);
  const bool must_quote = field.find_first_of("\",\n") != std::string::npos ||
                          (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!must_quote) {
    if (q != field) fuzz::fail("a field that needs no quotes was changed");
    return 0;
  }
  if (q.size() < 2 || q.front() != '"' || q.back() != '"') fuzz::fail("a field that needs quotes is not quoted");
  std::string back;
  for (std::size_t i = 1; i + 1 < q.size(); ++i) {
    if (q[i] == '"') {
      if (i + 2 >= q.size() || q[i + 1] != '"') fuzz::fail("a lone quote inside a quoted field");
      ++i;
    }
    back += q[i];
  }
  if (back != field) fuzz::fail("the quoted field does not read back as the original");
  return 0;
}
