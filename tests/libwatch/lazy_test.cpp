// The lazy filesystem mode (-S): what needs no kernel (the negative cache, paths below a root, the
// records that name a removed directory), then the Watcher with one real fanotify filesystem mark
// as root (skipped with the reason otherwise): nothing walked at setup, directories registered as
// events name them, right paths after renames, moves in, deletions and an overflow.
#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fanotify_records.hpp"
#include "helpers.hpp"
#include "lazy_dirs.hpp"

namespace lwtest {
namespace {

using libwatch::BackendKind;
using libwatch::Watcher;
using libwatch::WatcherOptions;
using testsupport::mkdir_p;

// ---- no kernel ----

TEST(LazyDirs, ComponentsBelowARoot) {
  std::vector<std::string_view> parts;
  ASSERT_TRUE(libwatch::components_below("/t/r", "/t/r/a/b", parts));
  EXPECT_EQ(parts, (std::vector<std::string_view>{"a", "b"}));
  ASSERT_TRUE(libwatch::components_below("/t/r/", "/t/r", parts));
  EXPECT_TRUE(parts.empty());
  EXPECT_FALSE(libwatch::components_below("/t/r", "/t/rx/a", parts));
  EXPECT_FALSE(libwatch::components_below("/t/r", "/t", parts));
  ASSERT_TRUE(libwatch::components_below("/", "/a/b", parts));
  EXPECT_EQ(parts, (std::vector<std::string_view>{"a", "b"}));
  // A name may hold anything but '/' (a newline, a byte that is not UTF-8).
  ASSERT_TRUE(libwatch::components_below("/r", "/r/x\ny/\xff", parts));
  EXPECT_EQ(parts, (std::vector<std::string_view>{"x\ny", "\xff"}));
}

TEST(LazyDirs, OutsideCacheIsBoundedAndEmptiedOnRequest) {
  libwatch::OutsideCache c(3);
  for (const char* k : {"a", "b", "c"}) c.insert(k);
  EXPECT_TRUE(c.contains("a") && c.contains("c"));
  c.insert("d");  // full: starts again empty
  EXPECT_EQ(c.size(), 1u);
  EXPECT_TRUE(c.contains("d"));
  EXPECT_FALSE(c.contains("a"));
  c.clear();
  EXPECT_FALSE(c.contains("d"));
  EXPECT_EQ(c.clears(), 2u);
}

// A fanotify record as read(2) gives it: metadata, then fid info records.
class RecordBuilder {
 public:
  explicit RecordBuilder(std::uint64_t mask) : mask_(mask) {}
  // A fid info record for handle bytes h (fsid 7, handle type 1), named when name is given.
  RecordBuilder& fid(unsigned char type, const std::string& h, const char* name = nullptr) {
    std::string rec(sizeof(fanotify_event_info_header), '\0');
    __kernel_fsid_t fsid{};
    fsid.val[0] = 7;
    rec.append(reinterpret_cast<const char*>(&fsid), sizeof fsid);
    const unsigned bytes = static_cast<unsigned>(h.size());
    const int handle_type = 1;
    rec.append(reinterpret_cast<const char*>(&bytes), sizeof bytes);
    rec.append(reinterpret_cast<const char*>(&handle_type), sizeof handle_type);
    rec += h;
    if (name) rec.append(name, std::strlen(name) + 1);
    while (rec.size() % 4) rec += '\0';
    fanotify_event_info_header hdr{.info_type = type, .pad = 0, .len = static_cast<std::uint16_t>(rec.size())};
    std::memcpy(rec.data(), &hdr, sizeof hdr);
    infos_ += rec;
    return *this;
  }
  std::string bytes() const {
    fanotify_event_metadata md{};
    md.event_len = static_cast<std::uint32_t>(sizeof md + infos_.size());
    md.vers = FANOTIFY_METADATA_VERSION;
    md.metadata_len = sizeof md;
    md.mask = mask_;
    md.fd = FAN_NOFD;
    std::string out(reinterpret_cast<const char*>(&md), sizeof md);
    return out + infos_;
  }
  // The key parse_fid() makes of handle bytes h.
  static std::string key(const std::string& h) {
    __kernel_fsid_t fsid{};
    fsid.val[0] = 7;
    const int handle_type = 1;
    return std::string(reinterpret_cast<const char*>(&fsid), sizeof fsid) +
           std::string(reinterpret_cast<const char*>(&handle_type), sizeof handle_type) + h;
  }

 private:
  std::uint64_t mask_;
  std::string infos_;
};

TEST(LazyDirs, ARemovedDirectoryIsPlacedByTheRecordThatRemovedIt) {
  const std::string stream = RecordBuilder(FAN_DELETE).fid(FAN_EVENT_INFO_TYPE_DFID_NAME, "GONE", "x").bytes() +
                             RecordBuilder(FAN_DELETE | FAN_ONDIR)
                                 .fid(FAN_EVENT_INFO_TYPE_DFID_NAME, "OTHR", "o")
                                 .fid(FAN_EVENT_INFO_TYPE_FID, "ELSE")
                                 .bytes() +
                             RecordBuilder(FAN_DELETE | FAN_ONDIR)
                                 .fid(FAN_EVENT_INFO_TYPE_DFID_NAME, "PRNT", "e")
                                 .fid(FAN_EVENT_INFO_TYPE_FID, "GONE")
                                 .bytes();
  const auto n = libwatch::find_naming(stream, RecordBuilder::key("GONE"));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->parent_key, RecordBuilder::key("PRNT"));
  EXPECT_EQ(n->name, "e");
  EXPECT_FALSE(libwatch::find_naming(stream, RecordBuilder::key("NONE")).has_value());
  // A file's deletion names no directory.
  const std::string file = RecordBuilder(FAN_DELETE)
                               .fid(FAN_EVENT_INFO_TYPE_DFID_NAME, "PRNT", "f")
                               .fid(FAN_EVENT_INFO_TYPE_FID, "GONE")
                               .bytes();
  EXPECT_FALSE(libwatch::find_naming(file, RecordBuilder::key("GONE")).has_value());
}

TEST(LazyDirs, ARenamedAwayDirectoryIsPlacedByItsOldName) {
  const std::string stream = RecordBuilder(FAN_RENAME | FAN_ONDIR)
                                 .fid(FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, "FROM", "old")
                                 .fid(FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, "TO__", "new")
                                 .fid(FAN_EVENT_INFO_TYPE_FID, "MOVD")
                                 .bytes();
  const auto n = libwatch::find_naming(stream, RecordBuilder::key("MOVD"));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->parent_key, RecordBuilder::key("FROM"));
  EXPECT_EQ(n->name, "old");
  // A truncated record ends the search (read(2) returns whole ones: nothing after it is trusted).
  EXPECT_FALSE(
      libwatch::find_naming(std::string_view(stream).substr(0, stream.size() - 4), RecordBuilder::key("MOVD")));
}

// ---- with the kernel ----

class LazyTest : public WatcherTest {
 protected:
  void SetUp() override {
    WatcherTest::SetUp();
    if (::geteuid() != 0)
      GTEST_SKIP() << "a filesystem mark needs CAP_SYS_ADMIN (and open_by_handle_at CAP_DAC_READ_SEARCH); not root";
    try {
      Watcher probe(options());
    } catch (const std::system_error& e) {
      GTEST_SKIP() << "fanotify not available here: " << e.what();
    }
  }
  static WatcherOptions options() {
    WatcherOptions o;
    o.backend = BackendKind::fanotify_filesystem;
    o.lazy_directories = true;
    return o;
  }
  // Waits for the event of name in the directory rendered as path; every event seen goes to ev.
  static bool saw(Watcher& w, std::vector<Rec>& ev, const std::string& path, const std::string& name) {
    return collect_until_event(w, ev, [&](const Rec& r) { return r.path == path && r.name == name; });
  }
};

TEST_F(LazyTest, SetupRegistersTheRootOnlyAndEventsRegisterTheirDirectories) {
  mkdirs({"a/b/c", "a/x", "d"});
  Watcher w(options());
  w.add(root, opts(IN_CREATE | IN_MODIFY, kTrack));
  EXPECT_EQ(w.watch_count(), 1u);
  create_file(disk("a/b/c/f"));
  std::vector<Rec> ev;
  ASSERT_TRUE(saw(w, ev, watched("a/b/c"), "f")) << describe(ev);
  // The directory and its ancestors, nothing beside them.
  EXPECT_EQ(table_paths(w), (std::multiset<std::string>{watched(""), watched("a"), watched("a/b"), watched("a/b/c")}));
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), 0u);  // one filesystem mark, no mark per directory
}

TEST_F(LazyTest, EventsOutsideTheTreeAreNotDelivered) {
  const std::string out = tmp / "outside";
  mkdir_p(out + "/deep");
  mkdirs({"a"});
  Watcher w(options());
  w.add(root, opts(IN_CREATE, kTrack));
  create_file(out + "/deep/f");
  create_file(out + "/g");
  create_file(disk("a/sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(saw(w, ev, watched("a"), "sentinel")) << describe(ev);
  EXPECT_EQ(ev.size(), 1u) << describe(ev);
}

TEST_F(LazyTest, NotRecursiveMeansTheRootOnly) {
  mkdirs({"a"});
  Watcher w(options());
  w.add(root, opts(IN_CREATE));
  create_file(disk("a/below"));
  create_file(disk("top"));
  std::vector<Rec> ev;
  ASSERT_TRUE(saw(w, ev, watched(""), "top")) << describe(ev);
  EXPECT_EQ(ev.size(), 1u) << describe(ev);
}

TEST_F(LazyTest, ExcludedSubtreesAreOutside) {
  mkdirs({"keep/in", "skip/in"});
  Watcher w(options());
  w.add(root, opts(IN_CREATE, kTrack, {disk("skip")}));
  create_file(disk("skip/in/f"));
  create_file(disk("keep/in/f"));
  std::vector<Rec> ev;
  ASSERT_TRUE(saw(w, ev, watched("keep/in"), "f")) << describe(ev);
  EXPECT_EQ(ev.size(), 1u) << describe(ev);
}

TEST_F(LazyTest, RenamedDirectoriesWithContentGiveNewPathsAtOnce) {
  mkdirs({"known/sub/deep", "unknown/sub/deep"});
  Watcher w(options());
  w.add(root, opts(IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO, kTrack));
  std::vector<Rec> ev;
  // "known" and its subtree are registered by an event; "unknown" never was.
  create_file(disk("known/sub/deep/f"));
  ASSERT_TRUE(saw(w, ev, watched("known/sub/deep"), "f")) << describe(ev);
  ASSERT_EQ(::rename(disk("known").c_str(), disk("k2").c_str()), 0);
  ASSERT_EQ(::rename(disk("unknown").c_str(), disk("u2").c_str()), 0);
  create_file(disk("k2/sub/deep/g"));
  create_file(disk("u2/sub/deep/g"));
  ASSERT_TRUE(saw(w, ev, watched("u2/sub/deep"), "g")) << describe(ev);
  EXPECT_GE(find_first(ev, [&](const Rec& r) { return r.path == watched("k2/sub/deep") && r.name == "g"; }), 0)
      << describe(ev);
  // Both renames come as pairs with one cookie each, and nothing is taken for new.
  for (const char* name : {"known", "unknown"}) {
    const long from = find_first(ev, [&](const Rec& r) { return (r.mask & IN_MOVED_FROM) && r.name == name; });
    ASSERT_GE(from, 0) << describe(ev);
    ASSERT_LT(static_cast<std::size_t>(from + 1), ev.size());
    EXPECT_TRUE((ev[from + 1].mask & IN_MOVED_TO) && ev[from + 1].cookie == ev[from].cookie) << describe(ev);
  }
  EXPECT_EQ(count_if(ev, [](const Rec& r) { return r.synthetic; }), 0u) << describe(ev);
}

TEST_F(LazyTest, AnEventQueuedBeforeARenameIsShownUnderTheNewPath) {
  mkdirs({"q"});
  Watcher w(options());
  w.add(root, opts(IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO, kTrack));
  // Nothing read until both happened: the directory is resolved after its rename.
  create_file(disk("q/f"));
  ASSERT_EQ(::rename(disk("q").c_str(), disk("r").c_str()), 0);
  create_file(disk("r/after"));
  std::vector<Rec> ev;
  ASSERT_TRUE(saw(w, ev, watched("r"), "after")) << describe(ev);
  ASSERT_GE(ev.size(), 4u) << describe(ev);
  // The kernel gives a handle, not the path it had: the new path (documented), then the pair.
  EXPECT_EQ(ev[0].full(), watched("r") + "f") << describe(ev);
  EXPECT_TRUE((ev[1].mask & IN_MOVED_FROM) && ev[1].name == "q") << describe(ev);
  EXPECT_TRUE((ev[2].mask & IN_MOVED_TO) && ev[2].name == "r" && ev[2].cookie == ev[1].cookie) << describe(ev);
  EXPECT_EQ(count_if(ev, [](const Rec& r) { return r.synthetic; }), 0u) << "taken for an arrival:\n" << describe(ev);
}

TEST_F(LazyTest, ADirectoryMovedInFromOutsideIsSeenEvenAfterItWasOutside) {
  const std::string out = tmp / "o";
  mkdir_p(out + "/inner");
  create_file(out + "/inner/old");
  Watcher w(options());
  w.add(root, opts(IN_CREATE | IN_MOVED_TO, kTrack));
  create_file(out + "/inner/f");  // resolved as outside (cached)
  create_file(disk("sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(saw(w, ev, watched(""), "sentinel")) << describe(ev);
  ASSERT_EQ(::rename(out.c_str(), disk("o").c_str()), 0);
  create_file(disk("o/inner/g"));
  // Moved in: a lone IN_MOVED_TO, then what it holds reported as in inotify mode (D1): an event
  // inside it read before its scan is left to the scan.
  ASSERT_TRUE(collect_until_event(w, ev, [&](const Rec& r) {
    return r.synthetic && r.full() == watched("o/inner") + "old";
  })) << describe(ev);
  EXPECT_GE(find_first(ev, [](const Rec& r) { return (r.mask & IN_MOVED_TO) && r.name == "o"; }), 0) << describe(ev);
  create_file(disk("o/inner/h"));
  ASSERT_TRUE(collect_until_event(w, ev, [&](const Rec& r) {
    return !r.synthetic && r.full() == watched("o/inner") + "h";
  })) << describe(ev);
  EXPECT_GE(find_first(ev, [&](const Rec& r) { return r.full() == watched("o/inner") + "g"; }), 0) << describe(ev);
}

TEST_F(LazyTest, DirectoriesRemovedBeforeTheirEventsAreReadKeepTheirPaths) {
  mkdirs({"a/e/sub"});
  create_file(disk("a/e/sub/x"));
  Watcher w(options());
  w.add(root, opts(IN_DELETE | IN_DELETE_SELF | IN_CREATE, kTrack));
  // Nothing is read before the whole subtree is gone: every handle is stale when resolved.
  ASSERT_EQ(::unlink(disk("a/e/sub/x").c_str()), 0);
  ASSERT_EQ(::rmdir(disk("a/e/sub").c_str()), 0);
  ASSERT_EQ(::rmdir(disk("a/e").c_str()), 0);
  create_file(disk("sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(saw(w, ev, watched(""), "sentinel")) << describe(ev);
  for (const Rec& r : ev) EXPECT_EQ(r.full().find("(deleted)"), std::string::npos) << describe(ev);
  EXPECT_GE(find_first(ev, [&](const Rec& r) { return (r.mask & IN_DELETE) && r.full() == watched("a/e/sub") + "x"; }),
            0)
      << describe(ev);
  EXPECT_GE(find_first(ev, [&](const Rec& r) { return (r.mask & IN_DELETE) && r.full() == watched("a/e") + "sub"; }), 0)
      << describe(ev);
  EXPECT_GE(find_first(ev, [&](const Rec& r) { return (r.mask & IN_DELETE) && r.full() == watched("a") + "e"; }), 0)
      << describe(ev);
  EXPECT_GE(find_first(ev, [&](const Rec& r) { return (r.mask & IN_DELETE_SELF) && r.path == watched("a/e"); }), 0)
      << describe(ev);
  // Released with their IN_IGNORED: the table holds what exists.
  ASSERT_TRUE(pump_until(w, ev, [&] {
    return table_paths(w) == std::multiset<std::string>{watched(""), watched("a")};
  })) << join(table_paths(w));
}

TEST_F(LazyTest, OverflowIsReportedAndRepairedWithoutAWalk) {
  const std::size_t q = 16384;  // fanotify's queue (FAN_UNLIMITED_QUEUE is not asked for)
  mkdirs({"fill", "a/b", "a/m"});
  Watcher w(options());
  w.add(root, opts(IN_MODIFY | IN_CREATE, kTrack));
  std::vector<Rec> ev;
  create_file(disk("a/b/before"));
  create_file(disk("a/m/before"));
  ASSERT_TRUE(saw(w, ev, watched("a/m"), "before")) << describe(ev);
  // New files: fanotify cannot merge their events into one.
  for (std::size_t i = 0; i < q + 1000; ++i) create_file(disk("fill/n" + std::to_string(i)));
  // The queue is full: this rename is lost.
  ASSERT_EQ(::rename(disk("a/m").c_str(), disk("a/m2").c_str()), 0);
  ASSERT_TRUE(collect_until_event(
      w, ev, [](const Rec& r) { return (r.mask & IN_Q_OVERFLOW) != 0; }, 60s))
      << describe(ev, 20);
  // The repair walks nothing: what is still where the table says stays, the rest is forgotten and
  // learned again from the next event that names it.
  create_file(disk("a/b/after"));
  create_file(disk("a/m2/after"));
  ASSERT_TRUE(saw(w, ev, watched("a/m2"), "after")) << describe(ev, 20);
  EXPECT_GE(find_first(ev, [&](const Rec& r) { return r.full() == watched("a/b") + "after"; }), 0) << describe(ev, 20);
  EXPECT_EQ(w.overflows(), 1u);
  EXPECT_EQ(table_paths(w),
            (std::multiset<std::string>{watched(""), watched("a"), watched("a/b"), watched("a/m2"), watched("fill")}));
}

}  // namespace
}  // namespace lwtest
