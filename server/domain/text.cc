#include "server/domain/text.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace intake {
namespace {

bool IsAllowedControl(AllowedControls controls, char32_t c) {
  switch (controls) {
    case AllowedControls::kNone:
      return false;
    case AllowedControls::kTabAndLineFeed:
      return c == '\t' || c == '\n';
    case AllowedControls::kTabAndLineBreaks:
      return c == '\t' || c == '\n' || c == '\r';
  }
  return false;
}

bool IsPrintableAscii(uint8_t byte) { return byte >= 0x20 && byte < 0x7F; }

}  // namespace

std::optional<char32_t> DecodeUtf8(absl::string_view text, size_t* pos) {
  const auto byte = [&text](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(*pos);
  if (lead < 0x80) {
    ++*pos;
    return lead;
  }
  size_t length;
  char32_t c;
  // The valid range of the second byte depends on the lead byte; it is what rules out
  // overlong forms, surrogates and values past U+10FFFF.
  uint8_t second_min = 0x80;
  uint8_t second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    c = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    c = lead & 0x0F;
    if (lead == 0xE0) second_min = 0xA0;  // Overlong.
    if (lead == 0xED) second_max = 0x9F;  // Surrogates.
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    c = lead & 0x07;
    if (lead == 0xF0) second_min = 0x90;  // Overlong.
    if (lead == 0xF4) second_max = 0x8F;  // Past U+10FFFF.
  } else {
    // 0x80 to 0xBF (continuation bytes), 0xC0 and 0xC1 (only ever overlong), 0xF5 to 0xFF.
    return std::nullopt;
  }
  if (text.size() - *pos < length) return std::nullopt;
  for (size_t k = 1; k < length; ++k) {
    const uint8_t b = byte(*pos + k);
    const uint8_t lo = k == 1 ? second_min : 0x80;
    const uint8_t hi = k == 1 ? second_max : 0xBF;
    if (b < lo || b > hi) return std::nullopt;
    c = (c << 6) | (b & 0x3F);
  }
  *pos += length;
  return c;
}

bool IsControl(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

std::optional<std::string> FindTextProblem(absl::string_view text, const TextRule& rule) {
  // Printable ASCII, most of every text, needs no decoding and no checks: skip it in one go.
  size_t pos = 0;
  while (pos < text.size() && IsPrintableAscii(static_cast<uint8_t>(text[pos]))) ++pos;
  size_t chars = pos;
  bool control = false;
  // No early return on a control character: invalid UTF-8 later in the text is reported first.
  while (pos < text.size()) {
    char32_t c = static_cast<uint8_t>(text[pos]);
    if (c < 0x80) {
      ++pos;  // ASCII: no call to decode it.
    } else {
      const std::optional<char32_t> decoded = DecodeUtf8(text, &pos);
      if (!decoded.has_value()) return "must be valid UTF-8";
      c = *decoded;
    }
    if (IsControl(c) && !IsAllowedControl(rule.controls, c)) control = true;
    ++chars;
  }
  if (control) {
    return rule.controls == AllowedControls::kNone
               ? "must not contain control characters"
               : "must not contain control characters other than tab and line breaks";
  }
  if (chars < rule.min_chars) {
    return rule.min_chars == 1 ? std::string("is required")
                               : absl::StrCat("must be at least ", rule.min_chars, " characters");
  }
  if (chars > rule.max_chars) {
    return absl::StrCat("must be at most ", rule.max_chars, " characters");
  }
  return std::nullopt;
}

}  // namespace intake
