// Network file systems under a watched tree and the watch-limit numbers, without a network: the
// classification of types, mountinfo parsing (escapes included), the count of a real tree and the
// suggested limit.
#include <string>

#include <gtest/gtest.h>

#include "support.hpp"
#include "toolcommon/filesystems.hpp"

namespace {

using namespace toolcommon;

TEST(ToolcommonFilesystems, RemoteTypes) {
  EXPECT_EQ(remote_fs_name(0x6969).value_or(""), "nfs");
  EXPECT_EQ(remote_fs_name(0xFF534D42).value_or(""), "cifs");
  EXPECT_EQ(remote_fs_name(0x65735546).value_or(""), "fuse");
  EXPECT_EQ(remote_fs_name(0x01021997).value_or(""), "9p");
  EXPECT_FALSE(remote_fs_name(0xEF53).has_value());      // ext4
  EXPECT_FALSE(remote_fs_name(0x01021994).has_value());  // tmpfs
  for (const char* t : {"nfs", "nfs4", "cifs", "smb3", "fuse.sshfs", "fuse.rclone", "9p", "ceph", "glusterfs"})
    EXPECT_TRUE(remote_fs_type(t)) << t;
  for (const char* t : {"ext4", "xfs", "btrfs", "tmpfs", "overlay", "fuseblk", "fusectl", "fuse.lxcfs", "proc"})
    EXPECT_FALSE(remote_fs_type(t)) << t;
}

TEST(ToolcommonFilesystems, RemoteMountsBelowATree) {
  const std::string mountinfo =
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
      "30 22 0:40 / /srv/data rw shared:5 - nfs4 server:/export rw,vers=4.2\n"
      "31 30 0:41 / /srv/data/sub\\040dir rw - fuse.sshfs me@host:/x rw\n"
      "32 22 0:42 / /srv/other rw - nfs4 server:/other rw\n"
      "33 30 0:43 / /srv/data/tmp rw - tmpfs tmpfs rw\n"
      "34 22 0:44 / /srv/database rw - cifs //h/s rw\n";
  auto m = remote_mounts_below(mountinfo, "/srv/data", "data");
  ASSERT_EQ(m.size(), 1u);  // not the tree's own mount, not a sibling, not tmpfs, not /srv/database
  EXPECT_EQ(m[0].path, "data/sub dir");
  EXPECT_EQ(m[0].type, "fuse.sshfs");
  EXPECT_EQ(remote_mounts_below(mountinfo, "/srv", "/srv/").size(), 4u);
}

TEST(ToolcommonFilesystems, WarningNamesPathTypeAndRemedy) {
  const std::string w = remote_fs_warning("data/", "nfs4");
  EXPECT_EQ(w.rfind("Warning: data/ is on a network file system (nfs4): ", 0), 0u) << w;
  EXPECT_NE(w.find("run the watcher on the machine that exports it"), std::string::npos) << w;
  EXPECT_EQ(w.back(), '\n');
  EXPECT_EQ(w.find('\n'), w.size() - 1);  // one line
}

TEST(ToolcommonFilesystems, LocalTreeHasNoWarning) {
  testsupport::TempDir t("tcfs");
  EXPECT_TRUE(remote_fs_warnings(t.path(), true).empty());
}

TEST(ToolcommonFilesystems, CountsTheDirectoriesOfATree) {
  testsupport::TempDir t("tcfs");
  testsupport::mkdir_p(t / "big/a/b/c");
  testsupport::mkdir_p(t / "big/d");
  testsupport::touch(t / "big/a/file");
  WatchNeeds n = count_watch_needs(t / "big", std::chrono::seconds(10));
  EXPECT_EQ(n.directories, 5u);
  EXPECT_TRUE(n.complete);
  EXPECT_TRUE(n.limit.has_value());
}

TEST(ToolcommonFilesystems, SuggestedLimitHasHeadroomAndIsNeverBelowTheLimitHit) {
  WatchNeeds n;
  n.directories = 123456;
  n.limit = 8192;
  n.in_use = 1000;
  EXPECT_EQ(suggested_limit(n), 160000u);  // (124456 * 1.25 = 155570) rounded up
  n.directories = 4;
  n.in_use = 0;
  n.limit = 65536;
  EXPECT_EQ(suggested_limit(n), 90000u);  // 65536 * 1.25 = 81920, rounded up
  n.complete = false;
  n.directories = 1234567;
  const std::string line = watch_limit_line("big", n);
  EXPECT_NE(line.find("holds at least 1,234,567 directories; the limit is 65,536 watches per user, 0 in use"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("`sysctl fs.inotify.max_user_watches=1550000`"), std::string::npos) << line;
  EXPECT_EQ(line.find("-S"), std::string::npos) << line;
  const std::string with_s = watch_limit_line("big", n, true);
  EXPECT_EQ(with_s.substr(0, line.size() - 1), line.substr(0, line.size() - 1));
  EXPECT_TRUE(with_s.ends_with(" Or use -S: a fanotify filesystem mark needs no watch per directory.\n")) << with_s;
}

}  // namespace
