#include "server/domain/us_phone.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace intake {
namespace {

using ::i18n::phonenumbers::PhoneNumber;
using ::i18n::phonenumbers::PhoneNumberUtil;

// Non-ASCII separators that copy and paste brings along: no-break, figure, thin and narrow
// no-break spaces; the hyphens and dashes U+2010..U+2015; the minus sign.
constexpr absl::string_view kUnicodeSeparators[] = {
    "\u00A0", "\u2007", "\u2009", "\u202F", "\u2010", "\u2011",
    "\u2012", "\u2013", "\u2014", "\u2015", "\u2212",
};

bool IsAsciiSeparator(char c) {
  return c == ' ' || c == '(' || c == ')' || c == '-' || c == '.' || c == '/' || c == '+';
}

// True if `input` is at most kMaxPhoneChars characters, each a digit or a separator. Letters
// are out: libphonenumber would read them as a vanity number or an extension.
bool HasOnlyPhoneCharacters(absl::string_view input) {
  size_t chars = 0;
  while (!input.empty()) {
    if (++chars > kMaxPhoneChars) return false;
    const char c = input.front();
    if (absl::ascii_isdigit(static_cast<unsigned char>(c)) || IsAsciiSeparator(c)) {
      input.remove_prefix(1);
      continue;
    }
    bool matched = false;
    for (const absl::string_view separator : kUnicodeSeparators) {
      if (absl::StartsWith(input, separator)) {
        input.remove_prefix(separator.size());
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  return true;
}

// NANP service codes 211, 311, ..., 911: never an area code, and as an exchange they dial a
// service, not a person. `code` is three digits.
bool IsN11(absl::string_view code) { return code[1] == '1' && code[2] == '1'; }

// Reasons hold no digit at all, so they can never echo part of the input.
absl::Status Refuse(absl::string_view reason) { return absl::InvalidArgumentError(reason); }

}  // namespace

absl::StatusOr<std::string> UsPhoneNormalizer::ToE164(absl::string_view input) const {
  if (absl::StripAsciiWhitespace(input).empty()) return Refuse("is required");
  if (!HasOnlyPhoneCharacters(input)) {
    return Refuse("must be a phone number written with digits, spaces and ( ) - . / + only");
  }

  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  if (util.Parse(std::string{input}, "US", &number) != PhoneNumberUtil::NO_PARSING_ERROR) {
    return Refuse("is not a valid US phone number");
  }
  if (number.country_code() != 1) return Refuse("must be a US or other North American number");
  if (number.has_extension()) return Refuse("must not have an extension");
  if (!util.IsValidNumber(number)) return Refuse("is not a valid US phone number");

  std::string national;
  util.GetNationalSignificantNumber(number, &national);
  if (national.size() != 10) return Refuse("is not a valid US phone number");
  const absl::string_view nsn = national;
  const absl::string_view area_code = nsn.substr(0, 3);
  const absl::string_view exchange = nsn.substr(3, 3);
  const absl::string_view line = nsn.substr(6, 4);
  if (IsN11(area_code) || IsN11(exchange)) {
    return Refuse("is a service code, not a number that reaches a person");
  }
  if (exchange == "555" && absl::StartsWith(line, "01")) {
    return Refuse("is in the range reserved for fictional use");
  }
  switch (util.GetNumberType(number)) {
    case PhoneNumberUtil::PREMIUM_RATE:
      return Refuse("is a premium-rate number");
    case PhoneNumberUtil::SHARED_COST:
      return Refuse("is a shared-cost number");
    default:
      break;
  }

  std::string e164;
  util.Format(number, PhoneNumberUtil::E164, &e164);
  if (e164 != "+1" + national) return Refuse("is not a valid US phone number");
  return e164;
}

}  // namespace intake
