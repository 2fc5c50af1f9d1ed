// Synthetic events (D1): the entries a scan found in a directory that appeared, delivered after
// the event that announced the directory and before any later one, parents before children.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libwatch/event.hpp"

namespace libwatch {

class SyntheticQueue {
 public:
  void push(WatchId watch, int wd, Mask mask, std::string_view name) {
    items_.push_back(Item{.watch = watch,
                          .wd = wd,
                          .mask = mask,
                          .name_off = static_cast<std::uint32_t>(names_.size()),
                          .name_len = static_cast<std::uint16_t>(name.size())});
    names_.append(name);
  }
  // The next one (its name is valid until the queue runs dry and is reused), or nullopt.
  std::optional<Event> next() {
    if (pos_ < items_.size()) {
      const Item& s = items_[pos_++];
      return Event{.watch = s.watch,
                   .wd = s.wd,
                   .mask = s.mask,
                   .cookie = 0,
                   .name = std::string_view(names_.data() + s.name_off, s.name_len),
                   .synthetic = true};
    }
    if (!items_.empty()) {
      items_.clear();
      names_.clear();
      pos_ = 0;
    }
    return std::nullopt;
  }
  bool empty() const noexcept { return pos_ == items_.size(); }

 private:
  struct Item {
    WatchId watch;
    int wd;
    Mask mask;
    std::uint32_t name_off;
    std::uint16_t name_len;
  };
  std::vector<Item> items_;
  std::size_t pos_ = 0;
  std::string names_;
};

}  // namespace libwatch
