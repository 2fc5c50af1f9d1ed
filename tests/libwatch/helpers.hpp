// Helpers shared by the libwatch tests: recorded events, collecting with deadlines, comparing the
// watch table with the disk and with the kernel, running a check in a forked child.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "inspect.hpp"
#include "libwatch/libwatch.hpp"
#include "support.hpp"

namespace lwtest {

using namespace std::chrono_literals;
using libwatch::Clock;
using libwatch::Mask;
using libwatch::WatchId;

// An event copied out of the Watcher, with its watched path rendered at the time it was delivered
// (which is what a tool printing %w does).
struct Rec {
  WatchId watch = libwatch::kNoWatch;
  int wd = -1;
  Mask mask = 0;
  std::uint32_t cookie = 0;
  std::string path;
  std::string name;
  bool synthetic = false;
  std::string full() const { return path + name; }
};

Rec record(const libwatch::Watcher& w, const libwatch::Event& e);
std::string describe(const Rec& r);
// All events, one per line, for failure messages (the first `max`, then a count of the rest).
std::string describe(const std::vector<Rec>& v, std::size_t max = 400);

// Reads events into out until done(out) is true or the timeout expires. Returns done(out).
bool collect_until(libwatch::Watcher& w, std::vector<Rec>& out,
                   const std::function<bool(const std::vector<Rec>&)>& done,
                   std::chrono::milliseconds timeout = testsupport::kDeadline);
// Reads events into out until one matching pred arrives (it is included). Returns whether it came.
bool collect_until_event(libwatch::Watcher& w, std::vector<Rec>& out, const std::function<bool(const Rec&)>& pred,
                         std::chrono::milliseconds timeout = testsupport::kDeadline);
// Calls next() in short slices (the events go to out) until fact() holds or the timeout expires.
// For facts that have no event of their own, e.g. a grace period running out.
bool pump_until(libwatch::Watcher& w, std::vector<Rec>& out, const std::function<bool()>& fact,
                std::chrono::milliseconds timeout = testsupport::kDeadline);

// Inside the Watcher (libwatch/src/inspect.hpp).
inline const libwatch::WatchTable& table_of(const libwatch::Watcher& w) { return libwatch::detail::Inspect::table(w); }
inline int kernel_fd(const libwatch::Watcher& w) { return libwatch::detail::Inspect::kernel_fd(w); }
inline bool has_pending(libwatch::Watcher& w) { return libwatch::detail::Inspect::has_pending(w); }

// Creates (or truncates) an empty file with open(2)/close(2).
void create_file(const std::string& path);
// Number of watches the kernel holds on an inotify fd, or inode marks on a fanotify fd
// (/proc/self/fdinfo).
std::size_t kernel_watch_count(int inotify_fd);
// The rendered path of every live watch in the table.
std::multiset<std::string> table_paths(const libwatch::Watcher& w);
// Every directory under root (root included, symlinks not followed), rendered as the watcher
// renders them when the root was added as `root` without a trailing slash: "root/", "root/a/".
std::multiset<std::string> disk_dirs(const std::string& root);
std::string join(const std::multiset<std::string>& s);

// Runs f in a forked child (the test process must not have other threads at that moment). f
// writes its findings as text to the given fd; whatever it throws is reported as "exception: ...".
// Returns everything the child wrote. The child is killed after the timeout.
struct ChildResult {
  std::string output;
  int status = -1;  // waitpid status
  bool timed_out = false;
};
ChildResult run_in_child(const std::function<void(int out_fd)>& f,
                         std::chrono::milliseconds timeout = testsupport::kDeadline);
void write_line(int fd, const std::string& line);
std::vector<std::string> lines_of(const std::string& text);

// AddOptions without designated initializers (g++ 12 warns about the fields left out).
enum OptFlag : unsigned { kPlain = 0, kRecursive = 1, kTrack = 2, kDontFollow = 4 };
libwatch::AddOptions opts(Mask mask, unsigned flags = kPlain, std::vector<std::string> exclude = {});
libwatch::WatcherOptions with_queue_bytes(std::size_t bytes);

// Index of the first event matching pred, or -1.
long find_first(const std::vector<Rec>& v, const std::function<bool(const Rec&)>& pred, std::size_t from = 0);
std::size_t count_if(const std::vector<Rec>& v, const std::function<bool(const Rec&)>& pred);

// Every Watcher test gets its own TempDir with the watched root `r` inside it (and room beside it
// for things outside the tree).
class WatcherTest : public ::testing::Test {
 protected:
  testsupport::TempDir tmp{"libwatch-test"};
  std::string root;
  void SetUp() override {
    root = tmp / "r";
    testsupport::mkdir_p(root);
  }
  // On disk: root/rel.
  std::string disk(const std::string& rel) const { return rel.empty() ? root : root + "/" + rel; }
  // As the watcher renders a watched directory when the root was added as `root`: "root/rel/".
  std::string watched(const std::string& rel) const { return rel.empty() ? root + "/" : root + "/" + rel + "/"; }
  void mkdirs(std::initializer_list<const char*> rels) const {
    for (const char* r : rels) testsupport::mkdir_p(disk(r));
  }
};

// The Watcher tests that hold for every backend (TEST_P, instantiated with each BackendKind). A
// fanotify test is skipped, with the reason, where fanotify_init(2) is refused.
class BackendTest : public WatcherTest, public ::testing::WithParamInterface<libwatch::BackendKind> {
 protected:
  void SetUp() override;
  libwatch::WatcherOptions backend_options() const {
    libwatch::WatcherOptions o;
    o.backend = GetParam();
    return o;
  }
  // The kernel's watches or marks for the watched directories. A filesystem mark has none per
  // directory (fdinfo shows 0): the handles its backend holds, one per table entry, stand for them.
  std::size_t kernel_marks(const libwatch::Watcher& w) const;
};
std::string backend_name(const ::testing::TestParamInfo<libwatch::BackendKind>& info);

}  // namespace lwtest
