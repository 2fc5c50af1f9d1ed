// Unit tests for the JSON pieces of --json: strict UTF-8, string escaping, base64 and the
// "_b64" companion field, and the RFC 3339 clock. The programs' whole output is checked with a
// real JSON parser in the tools' own tests.
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "toolcommon/json.hpp"

namespace {

using namespace std::string_literals;

std::string json_string(std::string_view s) {
  std::string out;
  toolcommon::append_json_string(s, out);
  return out;
}

std::string base64(std::string_view s) {
  std::string out;
  toolcommon::append_base64(s, out);
  return out;
}

std::string name_field(std::string_view v) {
  std::string out;
  toolcommon::append_json_name_field("path", v, out);
  return out;
}

TEST(ToolcommonJson, StrictUtf8) {
  EXPECT_TRUE(toolcommon::is_valid_utf8(""));
  EXPECT_TRUE(toolcommon::is_valid_utf8("plain"));
  EXPECT_TRUE(toolcommon::is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_TRUE(toolcommon::is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  EXPECT_FALSE(toolcommon::is_valid_utf8("\xFF"));
  EXPECT_FALSE(toolcommon::is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(toolcommon::is_valid_utf8("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(toolcommon::is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(toolcommon::is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(toolcommon::is_valid_utf8("\xC3"));              // cut short
  EXPECT_FALSE(toolcommon::is_valid_utf8("\xE2\x82"));
  EXPECT_FALSE(toolcommon::is_valid_utf8("a\x80z"));  // lone continuation byte
}

TEST(ToolcommonJson, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_string(""), "\"\"");
  EXPECT_EQ(json_string("a\"b\\c/d"), R"("a\"b\\c/d")");
  EXPECT_EQ(json_string("nl\ntab\tcr\r"), R"("nl\ntab\tcr\r")");
  EXPECT_EQ(json_string("\x01\x1f\x7f"s), R"("\u0001\u001f\u007f")");
  EXPECT_EQ(json_string("\0x"s), R"("\u0000x")");
  EXPECT_EQ(json_string("caf\xC3\xA9"), "\"caf\xC3\xA9\"");  // valid UTF-8 passes as it is
}

TEST(ToolcommonJson, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(json_string("a\xFFz"), "\"a\xEF\xBF\xBDz\"");
  EXPECT_EQ(json_string("\xC3(\xE2\x82"), "\"\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(ToolcommonJson, Base64OfEveryRemainder) {  // RFC 4648 section 10
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64("\xFF\xFE\x00"s), "//4A");
}

TEST(ToolcommonJson, B64FieldOnlyForNamesThatAreNotUtf8) {
  EXPECT_EQ(name_field("d/caf\xC3\xA9"), "\"path\":\"d/caf\xC3\xA9\"");
  EXPECT_EQ(name_field("d/\xFF"), "\"path\":\"d/\xEF\xBF\xBD\",\"path_b64\":\"ZC//\"");
}

TEST(ToolcommonJson, Rfc3339WithMicrosecondsAndOffset) {
  toolcommon::Rfc3339Clock clock;
  std::string a, b;
  clock.append_now(a);
  clock.append_now(b);  // the cached calendar part is reused
  const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d)");
  EXPECT_TRUE(std::regex_match(a, rfc3339)) << a;
  EXPECT_TRUE(std::regex_match(b, rfc3339)) << b;
  EXPECT_LE(a, b);
}

}  // namespace
