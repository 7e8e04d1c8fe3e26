#include "server/domain/us_phone.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

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

// The national number (the ten digits after the country code) of a number written the plain
// way nearly every caller writes one: ASCII digits with spaces and ( ) - . / among them; ten
// digits beginning 2-9, or eleven beginning "1" then 2-9, that "1" optionally after a single
// leading "+". Those shapes leave libphonenumber's Parse nothing to decide: with region US it
// reads them as country code 1 and these ten digits (a test holds the two to agree). Parse runs
// a dozen regular expressions and took a fifth of intaked's instructions per lead, so only
// what this refuses (Unicode separators, international prefixes, anything odd) still goes to
// Parse. nullopt: not one of those shapes.
std::optional<uint64_t> PlainNanpNumber(absl::string_view input) {
  std::string digits;
  bool plus = false;
  for (const char c : input) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      if (digits.size() == 11) return std::nullopt;
      digits.push_back(c);
    } else if (c == '+') {
      if (plus || !digits.empty()) return std::nullopt;
      plus = true;
    } else if (c != ' ' && c != '(' && c != ')' && c != '-' && c != '.' && c != '/') {
      return std::nullopt;
    }
  }
  if (digits.size() == 11 && digits[0] == '1') {
    digits.erase(0, 1);
  } else if (plus || digits.size() != 10) {
    return std::nullopt;
  }
  uint64_t national_number = 0;
  if (digits[0] < '2' || !absl::SimpleAtoi(digits, &national_number)) return std::nullopt;
  return national_number;
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
  if (const std::optional<uint64_t> national_number = PlainNanpNumber(input)) {
    number.set_country_code(1);
    number.set_national_number(*national_number);
  } else {
    if (util.Parse(std::string{input}, "US", &number) != PhoneNumberUtil::NO_PARSING_ERROR) {
      return Refuse("is not a valid US phone number");
    }
    if (number.country_code() != 1) return Refuse("must be a US or other North American number");
    if (number.has_extension()) return Refuse("must not have an extension");
  }
  // IsValidNumber is GetNumberType != UNKNOWN (both match the number against the metadata of
  // the region it belongs to); asking once matches the patterns half as often.
  const PhoneNumberUtil::PhoneNumberType type = util.GetNumberType(number);
  if (type == PhoneNumberUtil::UNKNOWN) return Refuse("is not a valid US phone number");

  std::string national;
  util.GetNationalSignificantNumber(number, &national);
  if (national.size() != 10) return Refuse("is not a valid US phone number");
  const absl::string_view nsn = national;
  const absl::string_view area_code = nsn.substr(0, 3);
  const absl::string_view exchange = nsn.substr(3, 3);
  const absl::string_view line = nsn.substr(6, 4);
  // NANP area codes and exchanges begin 2-9. libphonenumber's toll-free pattern lets an
  // exchange of 0 or 1 through (800-149-0040, found by the phone fuzzer): no one answers it.
  if (area_code[0] < '2' || exchange[0] < '2') return Refuse("is not a valid US phone number");
  if (IsN11(area_code) || IsN11(exchange)) {
    return Refuse("is a service code, not a number that reaches a person");
  }
  if (exchange == "555" && absl::StartsWith(line, "01")) {
    return Refuse("is in the range reserved for fictional use");
  }
  switch (type) {
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
