// Mask predicates, event names, mask_to_text, Fd and WatchError: no kernel needed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "libwatch/libwatch.hpp"

namespace {

using namespace libwatch;

// Every bit a 32-bit mask can hold, so that a predicate is checked against all of them.
std::vector<Mask> all_bits() {
  std::vector<Mask> v;
  for (int i = 0; i < 32; ++i) v.push_back(Mask{1} << i);
  return v;
}

// A single-bit predicate is true for its bit (alone and with any other bit) and false for every
// other single bit.
template <class P>
void expect_single_bit_predicate(P pred, Mask bit, const char* what) {
  SCOPED_TRACE(what);
  for (Mask b : all_bits()) {
    EXPECT_EQ(pred(b), b == bit) << std::hex << "mask 0x" << b;
    EXPECT_TRUE(pred(b | bit)) << std::hex << "mask 0x" << (b | bit);
  }
  EXPECT_FALSE(pred(0));
  EXPECT_FALSE(pred(~bit));
  EXPECT_TRUE(pred(0xffffffffu));
}

TEST(MaskPredicates, SingleBitPredicatesTestTheirBitOnly) {
  expect_single_bit_predicate([](Mask m) { return is_dir(m); }, IN_ISDIR, "is_dir");
  expect_single_bit_predicate([](Mask m) { return is_overflow(m); }, IN_Q_OVERFLOW, "is_overflow");
  expect_single_bit_predicate([](Mask m) { return is_ignored(m); }, IN_IGNORED, "is_ignored");
  expect_single_bit_predicate([](Mask m) { return is_unmount(m); }, IN_UNMOUNT, "is_unmount");
  expect_single_bit_predicate([](Mask m) { return is_create(m); }, IN_CREATE, "is_create");
  expect_single_bit_predicate([](Mask m) { return is_delete(m); }, IN_DELETE, "is_delete");
  expect_single_bit_predicate([](Mask m) { return is_move_from(m); }, IN_MOVED_FROM, "is_move_from");
  expect_single_bit_predicate([](Mask m) { return is_move_to(m); }, IN_MOVED_TO, "is_move_to");
  expect_single_bit_predicate([](Mask m) { return is_move_self(m); }, IN_MOVE_SELF, "is_move_self");
  expect_single_bit_predicate([](Mask m) { return is_delete_self(m); }, IN_DELETE_SELF, "is_delete_self");
}

TEST(MaskPredicates, RealisticKernelMasks) {
  // What the kernel actually delivers.
  EXPECT_TRUE(is_move_to(IN_MOVED_TO));  // watchman's IN_MOVED_TO test was never true
  EXPECT_TRUE(is_move_to(IN_MOVED_TO | IN_ISDIR));
  EXPECT_FALSE(is_move_to(IN_MOVED_FROM | IN_ISDIR));
  EXPECT_FALSE(is_move_from(IN_MOVED_TO));
  EXPECT_FALSE(is_move_self(IN_MOVED_FROM | IN_MOVED_TO));
  EXPECT_FALSE(is_delete(IN_DELETE_SELF));
  EXPECT_FALSE(is_delete_self(IN_DELETE));
  EXPECT_TRUE(is_overflow(IN_Q_OVERFLOW));
  EXPECT_FALSE(is_overflow(IN_ALL_EVENTS | IN_ISDIR));
  EXPECT_FALSE(is_ignored(IN_ALL_EVENTS | IN_ISDIR));
  EXPECT_FALSE(is_dir(IN_ALL_EVENTS));
}

TEST(MaskPredicates, IsDirCreate) {
  EXPECT_TRUE(is_dir_create(IN_CREATE | IN_ISDIR));
  EXPECT_FALSE(is_dir_create(IN_CREATE));
  EXPECT_FALSE(is_dir_create(IN_ISDIR));
  EXPECT_FALSE(is_dir_create(IN_MOVED_TO | IN_ISDIR));
  EXPECT_FALSE(is_dir_create(IN_DELETE | IN_ISDIR));
  EXPECT_FALSE(is_dir_create(0));
}

TEST(MaskPredicates, IsDirMoveFrom) {
  EXPECT_TRUE(is_dir_move_from(IN_MOVED_FROM | IN_ISDIR));
  EXPECT_FALSE(is_dir_move_from(IN_MOVED_FROM));
  EXPECT_FALSE(is_dir_move_from(IN_ISDIR));
  EXPECT_FALSE(is_dir_move_from(IN_MOVED_TO | IN_ISDIR));
  EXPECT_FALSE(is_dir_move_from(IN_MOVE_SELF));
}

TEST(MaskPredicates, IsDirMoveTo) {
  EXPECT_TRUE(is_dir_move_to(IN_MOVED_TO | IN_ISDIR));
  EXPECT_FALSE(is_dir_move_to(IN_MOVED_TO));
  EXPECT_FALSE(is_dir_move_to(IN_ISDIR));
  EXPECT_FALSE(is_dir_move_to(IN_MOVED_FROM | IN_ISDIR));
  EXPECT_FALSE(is_dir_move_to(IN_CREATE | IN_ISDIR));
}

TEST(MaskPredicates, IsDirArrival) {
  EXPECT_TRUE(is_dir_arrival(IN_CREATE | IN_ISDIR));
  EXPECT_TRUE(is_dir_arrival(IN_MOVED_TO | IN_ISDIR));
  EXPECT_FALSE(is_dir_arrival(IN_CREATE));
  EXPECT_FALSE(is_dir_arrival(IN_MOVED_TO));
  EXPECT_FALSE(is_dir_arrival(IN_MOVED_FROM | IN_ISDIR));
  EXPECT_FALSE(is_dir_arrival(IN_DELETE | IN_ISDIR));
  EXPECT_FALSE(is_dir_arrival(IN_ISDIR));
  EXPECT_FALSE(is_dir_arrival(IN_OPEN | IN_ISDIR));
}

TEST(MaskPredicates, IsUnrequestedKind) {
  EXPECT_TRUE(is_unrequested_kind(IN_IGNORED));
  EXPECT_TRUE(is_unrequested_kind(IN_UNMOUNT));
  EXPECT_TRUE(is_unrequested_kind(IN_Q_OVERFLOW));
  EXPECT_TRUE(is_unrequested_kind(IN_UNMOUNT | IN_ISDIR));
  EXPECT_FALSE(is_unrequested_kind(IN_ALL_EVENTS));
  EXPECT_FALSE(is_unrequested_kind(IN_ISDIR | IN_ONESHOT));
  EXPECT_FALSE(is_unrequested_kind(0));
  for (Mask b : all_bits()) {
    bool expected = b == IN_IGNORED || b == IN_UNMOUNT || b == IN_Q_OVERFLOW;
    EXPECT_EQ(is_unrequested_kind(b), expected) << std::hex << "mask 0x" << b;
  }
}

TEST(MaskPredicates, AreConstexpr) {
  static_assert(is_dir_arrival(IN_MOVED_TO | IN_ISDIR));
  static_assert(!is_dir_arrival(IN_MOVED_FROM | IN_ISDIR));
  static_assert(is_overflow(IN_Q_OVERFLOW));
  SUCCEED();
}

TEST(EventNames, PrintedNamesInInotifywaitOrder) {
  const std::vector<std::pair<std::string, Mask>> expected = {
      {"ACCESS", IN_ACCESS},
      {"MODIFY", IN_MODIFY},
      {"ATTRIB", IN_ATTRIB},
      {"CLOSE_WRITE", IN_CLOSE_WRITE},
      {"CLOSE_NOWRITE", IN_CLOSE_NOWRITE},
      {"OPEN", IN_OPEN},
      {"MOVED_FROM", IN_MOVED_FROM},
      {"MOVED_TO", IN_MOVED_TO},
      {"CREATE", IN_CREATE},
      {"DELETE", IN_DELETE},
      {"DELETE_SELF", IN_DELETE_SELF},
      {"UNMOUNT", IN_UNMOUNT},
      {"Q_OVERFLOW", IN_Q_OVERFLOW},
      {"IGNORED", IN_IGNORED},
      {"CLOSE", IN_CLOSE},
      {"MOVE_SELF", IN_MOVE_SELF},
      {"ISDIR", IN_ISDIR},
      {"ONESHOT", IN_ONESHOT},
  };
  auto names = printed_event_names();
  ASSERT_EQ(names.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(names[i].name, expected[i].first) << "position " << i;
    EXPECT_EQ(names[i].mask, expected[i].second) << "position " << i << " " << expected[i].first;
  }
}

TEST(EventNames, ParseIsCaseInsensitive) {
  EXPECT_EQ(parse_event_name("modify"), Mask{IN_MODIFY});
  EXPECT_EQ(parse_event_name("MODIFY"), Mask{IN_MODIFY});
  EXPECT_EQ(parse_event_name("MoDiFy"), Mask{IN_MODIFY});
  EXPECT_EQ(parse_event_name("Close_Write"), Mask{IN_CLOSE_WRITE});
  EXPECT_EQ(parse_event_name("close_nowrite"), Mask{IN_CLOSE_NOWRITE});
  EXPECT_EQ(parse_event_name("Q_Overflow"), Mask{IN_Q_OVERFLOW});
}

TEST(EventNames, ParseEveryPrintedName) {
  for (const auto& e : printed_event_names()) {
    auto m = parse_event_name(e.name);
    ASSERT_TRUE(m.has_value()) << e.name;
    EXPECT_EQ(*m, e.mask) << e.name;
    std::string lower(e.name);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(parse_event_name(lower), e.mask) << lower;
  }
}

TEST(EventNames, ParseCompositeNames) {
  EXPECT_EQ(parse_event_name("close"), Mask{IN_CLOSE_WRITE | IN_CLOSE_NOWRITE});
  EXPECT_EQ(parse_event_name("move"), Mask{IN_MOVED_FROM | IN_MOVED_TO});
  EXPECT_EQ(parse_event_name("MOVE"), Mask{IN_MOVED_FROM | IN_MOVED_TO});
  EXPECT_EQ(parse_event_name("all_events"), Mask{IN_ALL_EVENTS});
  EXPECT_EQ(parse_event_name("ALL_EVENTS"), Mask{0xfff});
  EXPECT_EQ(parse_event_name("move_self"), Mask{IN_MOVE_SELF});
  EXPECT_EQ(parse_event_name("isdir"), Mask{IN_ISDIR});
  EXPECT_EQ(parse_event_name("oneshot"), Mask{IN_ONESHOT});
  EXPECT_EQ(parse_event_name("ignored"), Mask{IN_IGNORED});
  EXPECT_EQ(parse_event_name("unmount"), Mask{IN_UNMOUNT});
}

TEST(EventNames, ParseUnknownIsNullopt) {
  EXPECT_EQ(parse_event_name("bogus"), std::nullopt);
  EXPECT_EQ(parse_event_name(""), std::nullopt);
  EXPECT_EQ(parse_event_name("modify,"), std::nullopt);
  EXPECT_EQ(parse_event_name("modif"), std::nullopt);
  EXPECT_EQ(parse_event_name("modifyx"), std::nullopt);
  EXPECT_EQ(parse_event_name(" modify"), std::nullopt);
  EXPECT_EQ(parse_event_name("closewrite"), std::nullopt);
  EXPECT_EQ(parse_event_name("moved"), std::nullopt);
  EXPECT_EQ(parse_event_name(std::string_view("modify\0", 7)), std::nullopt);
}

TEST(MaskToText, SingleNames) {
  EXPECT_EQ(mask_to_text(IN_ACCESS).view(), "ACCESS");
  EXPECT_EQ(mask_to_text(IN_CREATE).view(), "CREATE");
  EXPECT_EQ(mask_to_text(IN_MOVE_SELF).view(), "MOVE_SELF");
  EXPECT_EQ(mask_to_text(IN_Q_OVERFLOW).view(), "Q_OVERFLOW");
  EXPECT_EQ(mask_to_text(IN_IGNORED).view(), "IGNORED");
  EXPECT_EQ(mask_to_text(IN_UNMOUNT).view(), "UNMOUNT");
  EXPECT_EQ(mask_to_text(IN_DELETE_SELF).view(), "DELETE_SELF");
}

TEST(MaskToText, CloseFollowsTheCloseBits) {
  EXPECT_EQ(mask_to_text(IN_CLOSE_WRITE).view(), "CLOSE_WRITE,CLOSE");
  EXPECT_EQ(mask_to_text(IN_CLOSE_NOWRITE).view(), "CLOSE_NOWRITE,CLOSE");
  EXPECT_EQ(mask_to_text(IN_CLOSE_NOWRITE | IN_ISDIR).view(), "CLOSE_NOWRITE,CLOSE,ISDIR");
  EXPECT_EQ(mask_to_text(IN_CLOSE).view(), "CLOSE_WRITE,CLOSE_NOWRITE,CLOSE");
}

TEST(MaskToText, RealisticCombinations) {
  EXPECT_EQ(mask_to_text(IN_CREATE | IN_ISDIR).view(), "CREATE,ISDIR");
  EXPECT_EQ(mask_to_text(IN_OPEN | IN_ISDIR).view(), "OPEN,ISDIR");
  EXPECT_EQ(mask_to_text(IN_MOVED_FROM | IN_ISDIR).view(), "MOVED_FROM,ISDIR");
  EXPECT_EQ(mask_to_text(IN_MOVED_TO | IN_ISDIR).view(), "MOVED_TO,ISDIR");
  EXPECT_EQ(mask_to_text(IN_UNMOUNT | IN_ISDIR).view(), "UNMOUNT,ISDIR");
  // MOVE is never printed: the two bits print separately.
  EXPECT_EQ(mask_to_text(IN_MOVE).view(), "MOVED_FROM,MOVED_TO");
  EXPECT_EQ(mask_to_text(IN_ISDIR | IN_ONESHOT).view(), "ISDIR,ONESHOT");
}

TEST(MaskToText, FullOrder) {
  Mask all = IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ISDIR | IN_ONESHOT;
  EXPECT_EQ(mask_to_text(all).view(),
            "ACCESS,MODIFY,ATTRIB,CLOSE_WRITE,CLOSE_NOWRITE,OPEN,MOVED_FROM,MOVED_TO,CREATE,DELETE,"
            "DELETE_SELF,UNMOUNT,Q_OVERFLOW,IGNORED,CLOSE,MOVE_SELF,ISDIR,ONESHOT");
  // Unknown bits next to known ones are ignored.
  EXPECT_EQ(mask_to_text(IN_CREATE | IN_DONT_FOLLOW | IN_MASK_ADD | IN_EXCL_UNLINK).view(), "CREATE");
  EXPECT_EQ(mask_to_text(0xffffffffu).view(), mask_to_text(all).view());
}

TEST(MaskToText, CustomSeparator) {
  EXPECT_EQ(mask_to_text(IN_CLOSE_WRITE, ' ').view(), "CLOSE_WRITE CLOSE");
  EXPECT_EQ(mask_to_text(IN_CREATE | IN_ISDIR, ':').view(), "CREATE:ISDIR");
  EXPECT_EQ(mask_to_text(IN_MODIFY, ' ').view(), "MODIFY");
}

TEST(MaskToText, NoKnownBitIsHex) {
  EXPECT_EQ(mask_to_text(0).view(), "0x00000000");
  EXPECT_EQ(mask_to_text(IN_DONT_FOLLOW).view(), "0x02000000");
  EXPECT_EQ(mask_to_text(IN_MASK_ADD | IN_EXCL_UNLINK).view(), "0x24000000");
  EXPECT_EQ(mask_to_text(0x00001000).view(), "0x00001000");
  EXPECT_EQ(mask_to_text(0x00001000, ' ').view(), "0x00001000");
}

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

int open_devnull() {
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) ADD_FAILURE() << "open /dev/null: " << std::strerror(errno);
  return fd;
}

TEST(FdTest, ClosesInDestructor) {
  int raw = open_devnull();
  {
    Fd fd(raw);
    EXPECT_TRUE(fd);
    EXPECT_EQ(fd.get(), raw);
    EXPECT_TRUE(fd_is_open(raw));
  }
  EXPECT_FALSE(fd_is_open(raw));
}

TEST(FdTest, DefaultIsEmpty) {
  Fd fd;
  EXPECT_FALSE(fd);
  EXPECT_EQ(fd.get(), -1);
}

TEST(FdTest, MoveConstructionTransfersOwnership) {
  int raw = open_devnull();
  Fd a(raw);
  Fd b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
  EXPECT_EQ(a.get(), -1);
  EXPECT_EQ(b.get(), raw);
  {
    Fd c(std::move(b));
    EXPECT_TRUE(fd_is_open(raw));
  }
  EXPECT_FALSE(fd_is_open(raw));
}

TEST(FdTest, MoveAssignmentClosesTheOldDescriptor) {
  int raw1 = open_devnull();
  int raw2 = open_devnull();
  Fd a(raw1);
  Fd b(raw2);
  a = std::move(b);
  EXPECT_FALSE(fd_is_open(raw1));
  EXPECT_TRUE(fd_is_open(raw2));
  EXPECT_EQ(a.get(), raw2);
  EXPECT_EQ(b.get(), -1);  // NOLINT(bugprone-use-after-move)
  Fd& alias = a;
  a = std::move(alias);  // self-move keeps the descriptor
  EXPECT_EQ(a.get(), raw2);
  EXPECT_TRUE(fd_is_open(raw2));
}

TEST(FdTest, ReleaseDoesNotClose) {
  int raw = open_devnull();
  {
    Fd fd(raw);
    EXPECT_EQ(fd.release(), raw);
    EXPECT_FALSE(fd);
    EXPECT_EQ(fd.release(), -1);
  }
  EXPECT_TRUE(fd_is_open(raw));
  ::close(raw);
}

TEST(FdTest, ResetClosesAndTakesTheNewOne) {
  int raw1 = open_devnull();
  int raw2 = open_devnull();
  Fd fd(raw1);
  fd.reset(raw2);
  EXPECT_FALSE(fd_is_open(raw1));
  EXPECT_EQ(fd.get(), raw2);
  fd.reset();
  EXPECT_FALSE(fd_is_open(raw2));
  EXPECT_FALSE(fd);
}

TEST(FdTest, SyscallConstructorThrowsWithErrno) {
  errno = 0;
  int r = ::open("/nonexistent/libwatch-test", O_RDONLY | O_CLOEXEC);
  try {
    Fd fd(r, "open nonexistent");
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("open nonexistent"), std::string::npos) << e.what();
  }
  int raw = open_devnull();
  Fd ok(raw, "open /dev/null");
  EXPECT_EQ(ok.get(), raw);
}

TEST(WatchErrorTest, CarriesCodeOperandAndPath) {
  WatchError e(ENOSPC, "d", "d/sub/deeper/");
  EXPECT_EQ(e.code().value(), ENOSPC);
  EXPECT_EQ(e.operand(), "d");
  EXPECT_EQ(e.path(), "d/sub/deeper/");
  std::string what = e.what();
  EXPECT_NE(what.find("d/sub/deeper/"), std::string::npos) << what;
  EXPECT_NE(what.find(std::strerror(ENOSPC)), std::string::npos) << what;
  const std::system_error& base = e;  // catchable as the documented std::system_error
  EXPECT_EQ(base.code(), std::error_code(ENOSPC, std::generic_category()));
}

TEST(WatchErrorTest, EmptyPathNamesTheOperand) {
  WatchError e(ENOENT, "missing", "");
  EXPECT_EQ(e.operand(), "missing");
  EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
}

// The message throw_errno() builds, or "no exception".
template <class F>
std::pair<int, std::string> thrown(F f) {
  try {
    f();
  } catch (const std::system_error& e) {
    return {e.code().value(), e.what()};
  }
  return {0, "no exception"};
}

TEST(ThrowErrno, MessageNamesOperationAndPath) {
  auto [err, what] = thrown([] { throw_errno(EACCES, "inotify_add_watch", "d/x"); });
  EXPECT_EQ(err, EACCES);
  EXPECT_EQ(what.rfind("inotify_add_watch: d/x", 0), 0u) << what;
  auto [err2, what2] = thrown([] { throw_errno(EMFILE, "inotify_init1"); });
  EXPECT_EQ(err2, EMFILE);
  EXPECT_EQ(what2.rfind("inotify_init1", 0), 0u) << what2;
  EXPECT_EQ(what2.find("inotify_init1: :"), std::string::npos) << what2;
}

}  // namespace
