// A small reader over the fuzzer's bytes, shared by the targets (FuzzedDataProvider is clang-only,
// and the targets also build with g++ as corpus replayers).
//
// Text fields are NUL-terminated: nothing they stand for (argv strings, file names, formats) can
// hold a NUL, and a fuzzer mutates separators more gracefully than length prefixes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : p_(reinterpret_cast<const char*>(data)), left_(size) {}

  bool empty() const noexcept { return left_ == 0; }
  std::size_t left() const noexcept { return left_; }

  std::uint8_t byte() {
    if (left_ == 0) return 0;
    --left_;
    return static_cast<std::uint8_t>(*p_++);
  }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | byte();
    return v;
  }
  // Up to the next NUL (consumed) or the end.
  std::string text() {
    const void* z = left_ ? std::memchr(p_, 0, left_) : nullptr;
    std::size_t n = z ? static_cast<std::size_t>(static_cast<const char*>(z) - p_) : left_;
    std::string s(p_, n);
    p_ += n;
    left_ -= n;
    if (z) {
      ++p_;
      --left_;
    }
    return s;
  }
  // The rest, as it is.
  std::string rest() {
    std::string s(p_, left_);
    p_ += left_;
    left_ = 0;
    return s;
  }
  // The rest split at NULs (an empty trailing piece is dropped).
  std::vector<std::string> split_rest() {
    std::vector<std::string> out;
    while (!empty()) out.push_back(text());
    return out;
  }

 private:
  const char* p_;
  std::size_t left_;
};

// Stops the fuzzer with a message: a property of the code under test does not hold.
[[noreturn]] void fail(const std::string& what);

}  // namespace fuzz
