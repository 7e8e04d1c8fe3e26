// What provider_test and submission_test cannot see through their fields: the decoded values,
// the order in which problems are reported, and rules no field uses yet (min_chars > 1).
#include "server/domain/text.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace intake {
namespace {

TEST(DecodeUtf8Test, DecodesEachLengthAtItsBoundaries) {
  struct Case {
    std::string bytes;
    char32_t code_point;
  };
  const std::vector<Case> cases = {
      {std::string("\0", 1), 0x0},
      {"\x7F", 0x7F},
      {"\xC2\x80", 0x80},
      {"\xDF\xBF", 0x7FF},
      {"\xE0\xA0\x80", 0x800},
      {"\xED\x9F\xBF", 0xD7FF},
      {"\xEE\x80\x80", 0xE000},
      {"\xEF\xBF\xBF", 0xFFFF},
      {"\xF0\x90\x80\x80", 0x10000},
      {"\xF4\x8F\xBF\xBF", 0x10FFFF},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::CEscape(c.bytes));
    const std::string text = c.bytes + "z";
    size_t pos = 0;
    EXPECT_EQ(DecodeUtf8(text, &pos), std::optional<char32_t>(c.code_point));
    EXPECT_EQ(pos, c.bytes.size());
    EXPECT_EQ(DecodeUtf8(text, &pos), std::optional<char32_t>(U'z'));
    EXPECT_EQ(pos, text.size());
  }
}

TEST(DecodeUtf8Test, RefusesMalformedSequencesWithoutMoving) {
  for (const std::string& bad : std::vector<std::string>{
           "\x80",              // Stray continuation byte.
           "\xC1\xBF",          // Overlong two-byte.
           "\xE0\x9F\xBF",      // Overlong three-byte (U+07FF).
           "\xF0\x8F\xBF\xBF",  // Overlong four-byte (U+FFFF).
           "\xED\xBF\xBF",      // Surrogate U+DFFF.
           "\xF4\x90\x80\x80",  // U+110000.
           "\xF5\x80\x80\x80",  // Lead byte past F4.
           "\xE2\x82z",         // Third byte not a continuation.
           "\xF0\x9F\x98z",     // Fourth byte not a continuation.
           "\xF0\x9F\x98",      // Truncated.
       }) {
    SCOPED_TRACE(absl::CEscape(bad));
    const std::string text = "a" + bad;
    size_t pos = 1;
    EXPECT_EQ(DecodeUtf8(text, &pos), std::nullopt);
    EXPECT_EQ(pos, 1u);
  }
}

TEST(IsControlTest, CoversC0DelAndC1Only) {
  for (const char32_t c : {0x00, 0x09, 0x1F, 0x7F, 0x80, 0x85, 0x9F}) {
    EXPECT_TRUE(IsControl(c)) << static_cast<unsigned>(c);
  }
  for (const char32_t c : {0x20, 0x7E, 0xA0, 0x2028, 0xFEFF, 0x10FFFF}) {
    EXPECT_FALSE(IsControl(c)) << static_cast<unsigned>(c);
  }
}

TEST(FindTextProblemTest, Descriptions) {
  EXPECT_EQ(FindTextProblem("ok", {0, 10}), std::nullopt);
  EXPECT_EQ(FindTextProblem("a\xFF", {0, 10}), "must be valid UTF-8");
  EXPECT_EQ(FindTextProblem("a\x1B", {0, 10}), "must not contain control characters");
  EXPECT_EQ(FindTextProblem("a\x1B", {0, 10, AllowedControls::kTabAndLineFeed}),
            "must not contain control characters other than tab and line breaks");
  EXPECT_EQ(FindTextProblem("a\x1B", {0, 10, AllowedControls::kTabAndLineBreaks}),
            "must not contain control characters other than tab and line breaks");
  EXPECT_EQ(FindTextProblem("", {1, 10}), "is required");
  EXPECT_EQ(FindTextProblem("ab", {3, 10}), "must be at least 3 characters");
  EXPECT_EQ(FindTextProblem("abcd", {0, 3}), "must be at most 3 characters");
}

TEST(FindTextProblemTest, ReportsUtf8ThenControlsThenLength) {
  // Invalid UTF-8 wins even after a control character.
  EXPECT_EQ(FindTextProblem("\x01\xFF", {5, 1}), "must be valid UTF-8");
  EXPECT_EQ(FindTextProblem("\x01\x01", {5, 1}), "must not contain control characters");
  EXPECT_EQ(FindTextProblem("", {5, 1}), "must be at least 5 characters");
}

TEST(FindTextProblemTest, AllowedControlsAreExactlyTheNamedOnes) {
  const TextRule none{0, 10, AllowedControls::kNone};
  const TextRule tab_lf{0, 10, AllowedControls::kTabAndLineFeed};
  const TextRule tab_crlf{0, 10, AllowedControls::kTabAndLineBreaks};
  for (const char* text : {"a\tb", "a\nb"}) {
    EXPECT_NE(FindTextProblem(text, none), std::nullopt) << absl::CEscape(text);
    EXPECT_EQ(FindTextProblem(text, tab_lf), std::nullopt) << absl::CEscape(text);
    EXPECT_EQ(FindTextProblem(text, tab_crlf), std::nullopt) << absl::CEscape(text);
  }
  EXPECT_NE(FindTextProblem("a\rb", tab_lf), std::nullopt);
  EXPECT_EQ(FindTextProblem("a\rb", tab_crlf), std::nullopt);
  // Vertical tab, form feed, NUL, DEL and NEL stay refused whatever the rule allows.
  for (const std::string& text :
       std::vector<std::string>{"a\vb", "a\fb", std::string("a\0b", 3), "a\x7F", "a\xC2\x85"}) {
    EXPECT_NE(FindTextProblem(text, tab_crlf), std::nullopt) << absl::CEscape(text);
  }
}

TEST(FindTextProblemTest, AllowedControlsCountAsCharacters) {
  const TextRule rule{0, 3, AllowedControls::kTabAndLineBreaks};
  EXPECT_EQ(FindTextProblem("\t\r\n", rule), std::nullopt);
  EXPECT_EQ(FindTextProblem("\t\r\n\t", rule), "must be at most 3 characters");
}

}  // namespace
}  // namespace intake
