// The parts of a fanotify(7) event record that the backend reads, without any syscall: the fid
// info records (fsid + file handle, and the entry name of the *_NAME kinds) and, for the lazy
// filesystem mode, where a later record of the same batch names a directory that is gone.
#pragma once

#include <sys/fanotify.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace libwatch {

// One fid record of an event: the object's key (fsid + handle type + handle bytes, the form
// key_of() gives), and the entry name for the *_NAME kinds.
struct FidInfo {
  bool present = false;
  std::string key;
  std::string_view name;
};

// The fid records of one event record (metadata first).
struct RecordFids {
  FidInfo dir, object, from, to;
};

void parse_fid(const char* p, std::size_t len, bool named, FidInfo& out);
void parse_record(std::span<const char> record, RecordFids& out);

// Where the directory key was last named before it went: the first record in bytes (whole
// records, as read(2) returns them) that deletes or renames a directory whose handle is key
// gives its parent's key and its name there (the old one for a rename).
struct Naming {
  std::string parent_key;
  std::string name;
};
std::optional<Naming> find_naming(std::span<const char> bytes, std::string_view key);

}  // namespace libwatch
