// The rules every free-text field shares: strict UTF-8, no control characters beyond those a
// field allows, and a length counted in Unicode code points. Internal to the domain library:
// provider.cc and submission.cc build their field checks on it.
#ifndef INTAKE_SERVER_DOMAIN_TEXT_H_
#define INTAKE_SERVER_DOMAIN_TEXT_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace intake {

// Which control characters (C0, DEL, C1) a text may hold; every other one is refused.
enum class AllowedControls {
  kNone,
  // Tab and line feed.
  kTabAndLineFeed,
  // Tab, line feed and carriage return.
  kTabAndLineBreaks,
};

// What a text field must be: from min_chars to max_chars code points (both inclusive), with
// only the control characters `controls` allows.
struct TextRule {
  size_t min_chars;
  size_t max_chars;
  AllowedControls controls = AllowedControls::kNone;
};

// Decodes the code point of strict UTF-8 (RFC 3629) that starts at text[*pos] and advances *pos
// past it. Returns nullopt, leaving *pos as it was, for anything that is not well formed: a
// stray continuation byte, a truncated sequence, an overlong form, a surrogate or a value past
// U+10FFFF. Requires *pos < text.size().
std::optional<char32_t> DecodeUtf8(absl::string_view text, size_t* pos);

// True for the control characters: C0 (U+0000 to U+001F), DEL (U+007F) and C1 (U+0080 to
// U+009F).
bool IsControl(char32_t c);

// Returns nullopt when `text` meets `rule`, and otherwise what is wrong with it, for a person:
// "must be valid UTF-8"; "must not contain control characters" (with " other than tab and line
// breaks" appended when the rule allows some); "is required" (min_chars 1) or "must be at
// least N characters"; "must be at most N characters". Only the first problem is reported,
// checked in that order over the whole text, so invalid UTF-8 anywhere wins over a control
// character before it. The description never contains the text.
std::optional<std::string> FindTextProblem(absl::string_view text, const TextRule& rule);

}  // namespace intake

#endif  // INTAKE_SERVER_DOMAIN_TEXT_H_
