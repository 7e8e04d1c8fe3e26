#include "server/domain/us_phone.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <list>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace intake {
namespace {

using ::i18n::phonenumbers::PhoneNumber;
using ::i18n::phonenumbers::PhoneNumberUtil;

struct Accepted {
  const char* input;
  const char* e164;
};

// Real-looking numbers only: 555-01XX is fictional and refused.
constexpr Accepted kAccepted[] = {
    {"(305) 736-5000", "+13057365000"},
    {"(305)736-5000", "+13057365000"},
    {"305-736-5000", "+13057365000"},
    {"305.736.5000", "+13057365000"},
    {"305/736-5000", "+13057365000"},
    {"305 736 5000", "+13057365000"},
    {"3057365000", "+13057365000"},
    {"13057365000", "+13057365000"},
    {"1-305-736-5000", "+13057365000"},
    {"1 (305) 736-5000", "+13057365000"},
    {"+1 305 736 5000", "+13057365000"},
    {"+1 (305) 736-5000", "+13057365000"},
    {"+1-305-736-5000", "+13057365000"},
    {"+1.305.736.5000", "+13057365000"},
    {"+13057365000", "+13057365000"},
    {"  (212) 736-5000  ", "+12127365000"},
    {"(305) 555-2368", "+13055552368"},
    // Just outside the fictional 555-0100..555-0199 range.
    {"305-555-0099", "+13055550099"},
    {"305-555-0200", "+13055550200"},
    {"305-555-1212", "+13055551212"},
    // Separators from copy and paste: non-breaking hyphen, en dash, no-break space, minus.
    {"305\u2011736\u20115000", "+13057365000"},
    {"305\u2013736\u20135000", "+13057365000"},
    {"305\u00a0736\u00a05000", "+13057365000"},
    {"305\u2212736\u22125000", "+13057365000"},
    // The rest of the NANP: Canada, Puerto Rico, Bermuda; toll-free; 5XX personal numbers.
    {"(416) 736-5000", "+14167365000"},
    {"787-736-5000", "+17877365000"},
    {"441-736-5000", "+14417365000"},
    {"1-800-736-5000", "+18007365000"},
    {"500-736-5000", "+15007365000"},
};

TEST(UsPhoneNormalizerTest, AcceptsCommonFormats) {
  const UsPhoneNormalizer phones;
  for (const Accepted& c : kAccepted) {
    SCOPED_TRACE(c.input);
    const absl::StatusOr<std::string> e164 = phones.ToE164(c.input);
    ASSERT_TRUE(e164.ok()) << e164.status();
    EXPECT_EQ(*e164, c.e164);
  }
}

TEST(UsPhoneNormalizerTest, OutputIsAFixedPoint) {
  const UsPhoneNormalizer phones;
  for (const Accepted& c : kAccepted) {
    SCOPED_TRACE(c.input);
    const absl::StatusOr<std::string> again = phones.ToE164(c.e164);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, c.e164);
  }
}

TEST(UsPhoneNormalizerTest, LengthLimit) {
  const UsPhoneNormalizer phones;
  const std::string number = "+1 (305) 736-5000";
  const std::string at_max = number + std::string(kMaxPhoneChars - number.size(), ' ');
  ASSERT_EQ(at_max.size(), kMaxPhoneChars);
  EXPECT_TRUE(phones.ToE164(at_max).ok());
  EXPECT_EQ(phones.ToE164(at_max + " ").status().code(), absl::StatusCode::kInvalidArgument);

  // Counted in characters: 31 characters here, but more than 32 bytes.
  const std::string dashes = "305\u2013736\u20135000" + std::string(19, ' ');
  ASSERT_GT(dashes.size(), kMaxPhoneChars);
  EXPECT_TRUE(phones.ToE164(dashes).ok());
}

struct Refused {
  const char* why;
  absl::string_view input;
};

constexpr Refused kRefused[] = {
    {"N11 exchange: directory assistance", "305-411-1234"},
    {"N11 exchange: emergency", "(305) 911-1234"},
    {"N11 exchange: community services", "+1 305 211 1234"},
    {"N11 exchange, eleven digits", "1-212-611-5000"},
    {"N11 area code", "411-736-5000"},
    {"N11 area code", "(911) 736-5000"},
    {"N11 area code", "+1 211 736 5000"},
    {"fictional 555-0100", "(305) 555-0100"},
    {"fictional 555-0123", "305-555-0123"},
    {"fictional 555-0199", "+1 305 555 0199"},
    {"fictional 555-01XX on toll-free", "1-800-555-0150"},
    {"premium rate", "900-736-5000"},
    {"premium rate", "+1 (900) 555-2368"},
    {"invalid area code 123", "123-456-7890"},
    {"invalid area code starting with 0", "023-736-5000"},
    {"invalid area code starting with 1", "(105) 736-5000"},
    {"unassigned area code", "710-736-5000"},
    {"exchange starting with 0", "305-036-5000"},
    {"exchange starting with 1", "305-136-5000"},
    {"too short: seven digits", "736-5000"},
    {"too short: nine digits", "305-736-500"},
    {"too long: eleven digits not starting with 1", "305-736-50001"},
    {"too long: twelve digits", "+1 305 736 50001"},
    {"too long: many digits", "30573650003057365000"},
    {"too long: characters", "555555555555555555555555555555555"},
    {"not NANP", "+44 20 7946 0000"},
    {"not NANP", "+52 55 1234 5678"},
    {"bad international prefix", "001 305 736 5000"},
    {"vanity number", "1-800-FLOWERS"},
    {"vanity number", "1-800-flowers"},
    {"letter O for zero", "305-736-5OOO"},
    {"extension", "305-736-5000 ext. 12"},
    {"extension", "305-736-5000 x12"},
    {"extension", "305-736-5000 #12"},
    {"extension", "305-736-5000;12"},
    {"extension", "305-736-5000,12"},
    {"URI", "tel:+1-305-736-5000"},
    {"control character", "305\n736-5000"},
    {"control character", "305\t736-5000"},
    {"control character", absl::string_view("305-736-5000\0", 13)},
    {"full-width digits", "\uff13\uff10\uff15-736-5000"},
    {"invalid UTF-8",
     "\xff"
     "305-736-5000"},
    {"empty", ""},
    {"blank", "   "},
    {"separators only", "(--) ..."},
};

TEST(UsPhoneNormalizerTest, RefusesWithAReasonThatHoldsNoDigit) {
  const UsPhoneNormalizer phones;
  for (const Refused& c : kRefused) {
    SCOPED_TRACE(absl::StrCat(c.why, ": ", absl::CEscape(c.input)));
    const absl::StatusOr<std::string> e164 = phones.ToE164(c.input);
    ASSERT_FALSE(e164.ok()) << *e164;
    EXPECT_EQ(e164.status().code(), absl::StatusCode::kInvalidArgument);
    const absl::string_view reason = e164.status().message();
    EXPECT_FALSE(reason.empty());
    for (const char ch : reason) {
      EXPECT_FALSE(absl::ascii_isdigit(static_cast<unsigned char>(ch))) << reason;
    }
    if (!absl::StripAsciiWhitespace(c.input).empty()) {
      EXPECT_FALSE(absl::StrContains(reason, c.input)) << reason;
    }
  }
}

TEST(UsPhoneNormalizerTest, SpecificReasons) {
  const UsPhoneNormalizer phones;
  EXPECT_EQ(phones.ToE164("305-411-1234").status().message(),
            "is a service code, not a number that reaches a person");
  EXPECT_EQ(phones.ToE164("305-555-0123").status().message(),
            "is in the range reserved for fictional use");
  EXPECT_EQ(phones.ToE164("900-736-5000").status().message(), "is a premium-rate number");
  EXPECT_EQ(phones.ToE164("+44 20 7946 0000").status().message(),
            "must be a US or other North American number");
  EXPECT_EQ(phones.ToE164("123-456-7890").status().message(), "is not a valid US phone number");
  // An exchange must begin 2-9 too, though libphonenumber's toll-free pattern allows 0 or 1.
  EXPECT_EQ(phones.ToE164("800-149-0040").status().message(), "is not a valid US phone number");
  EXPECT_EQ(phones.ToE164("(888) 049-1234").status().message(), "is not a valid US phone number");
  EXPECT_EQ(phones.ToE164("").status().message(), "is required");
}

// libphonenumber's own example numbers of the refused types, for every NANP region. This
// metadata (8.12) has premium-rate examples and no shared-cost ones; should a later version
// add some, they are covered here too.
TEST(UsPhoneNormalizerTest, RefusesPremiumRateAndSharedCostExamples) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  std::list<std::string> regions;
  util.GetRegionCodesForCountryCallingCode(1, &regions);
  ASSERT_FALSE(regions.empty());
  const UsPhoneNormalizer phones;
  int premium_examples = 0;
  for (const std::string& region : regions) {
    for (const PhoneNumberUtil::PhoneNumberType type :
         {PhoneNumberUtil::PREMIUM_RATE, PhoneNumberUtil::SHARED_COST}) {
      PhoneNumber example;
      if (!util.GetExampleNumberForType(region, type, &example)) continue;
      if (type == PhoneNumberUtil::PREMIUM_RATE) ++premium_examples;
      std::string national;
      util.Format(example, PhoneNumberUtil::NATIONAL, &national);
      SCOPED_TRACE(absl::StrCat(region, " ", national));
      EXPECT_EQ(phones.ToE164(national).status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
  EXPECT_GT(premium_examples, 0);
}

// ToE164 as it was before it learned to skip Parse for plain numbers and to ask
// libphonenumber for the number's type once: Parse always, then IsValidNumber and
// GetNumberType. The oracle of the test below.
absl::StatusOr<std::string> ReferenceToE164(const std::string& input) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  const auto refuse = [](absl::string_view reason) { return absl::InvalidArgumentError(reason); };
  if (util.Parse(input, "US", &number) != PhoneNumberUtil::NO_PARSING_ERROR) {
    return refuse("is not a valid US phone number");
  }
  if (number.country_code() != 1) return refuse("must be a US or other North American number");
  if (number.has_extension()) return refuse("must not have an extension");
  if (!util.IsValidNumber(number)) return refuse("is not a valid US phone number");
  std::string national;
  util.GetNationalSignificantNumber(number, &national);
  if (national.size() != 10) return refuse("is not a valid US phone number");
  const auto n11 = [](absl::string_view code) { return code[1] == '1' && code[2] == '1'; };
  if (n11(national.substr(0, 3)) || n11(national.substr(3, 3))) {
    return refuse("is a service code, not a number that reaches a person");
  }
  if (national.substr(3, 3) == "555" && absl::StartsWith(national.substr(6), "01")) {
    return refuse("is in the range reserved for fictional use");
  }
  switch (util.GetNumberType(number)) {
    case PhoneNumberUtil::PREMIUM_RATE:
      return refuse("is a premium-rate number");
    case PhoneNumberUtil::SHARED_COST:
      return refuse("is a shared-cost number");
    default:
      break;
  }
  std::string e164;
  util.Format(number, PhoneNumberUtil::E164, &e164);
  return e164;
}

// The plain shapes ToE164 reads without Parse, and their near misses that it hands to Parse,
// give the same answer as Parse itself, for numbers valid and not, across the NANP.
TEST(UsPhoneNormalizerTest, AgreesWithLibphonenumberOnEveryShape) {
  // Area codes of the US, Canada and the Caribbean, toll-free, premium, personal, N11 and
  // unassigned ones; random ones too.
  constexpr const char* kAreaCodes[] = {"212", "305", "416", "604", "787", "441", "876",
                                        "800", "888", "900", "500", "411", "710", "123",
                                        "023", "105", "999", "242", "671", "340"};
  constexpr const char* kShapes[] = {
      "(A) E-L",   "A-E-L",      "A.E.L",    "A/E-L",      "AEL",         "1AEL",
      "1-A-E-L",   "1 (A) E-L",  "+1 A E L", "+1AEL",      "+ 1 (A) E L", "(+1) A-E-L",
      " A E L ",   "((A)) E--L", "+AEL",     "A E L 1",    "1 1 A E L",   "+1 1 A E L",
      "++1 A E L", "A E L+",     "1A-E-L/",  "0011 A E L", "011 1 A E L", "+1 A E L9",
      "A E",       "1 A E",      "+A E L",   "9 A E L",    "A-E-L.",      "-+1-A-E-L"};
  std::mt19937 random(20240611);
  const auto digits = [&random](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out.push_back(static_cast<char>('0' + random() % 10));
    return out;
  };
  const UsPhoneNormalizer phones;
  int accepted = 0;
  for (int i = 0; i < 6000; ++i) {
    const std::string area =
        i % 3 == 0 ? digits(3) : kAreaCodes[random() % (sizeof(kAreaCodes) / sizeof(*kAreaCodes))];
    // Mostly real-looking exchanges; sometimes 555, an N11 or anything.
    std::string exchange = absl::StrCat(2 + random() % 8, digits(2));
    if (i % 7 == 0) exchange = "555";
    if (i % 11 == 0) exchange = "911";
    if (i % 13 == 0) exchange = digits(3);
    const std::string line = i % 5 == 0 ? absl::StrCat("01", digits(2)) : digits(4);
    std::string input;
    for (const char c : absl::string_view(kShapes[i % (sizeof(kShapes) / sizeof(*kShapes))])) {
      if (c == 'A') {
        input += area;
      } else if (c == 'E') {
        input += exchange;
      } else if (c == 'L') {
        input += line;
      } else {
        input.push_back(c);
      }
    }
    SCOPED_TRACE(input);
    const absl::StatusOr<std::string> expected = ReferenceToE164(input);
    const absl::StatusOr<std::string> actual = phones.ToE164(input);
    ASSERT_EQ(actual.status(), expected.status());
    if (expected.ok()) {
      EXPECT_EQ(*actual, *expected);
      ++accepted;
    }
  }
  // Both sides of the comparison are well represented.
  EXPECT_GT(accepted, 1500);
  EXPECT_LT(accepted, 4500);
}

TEST(UsPhoneNormalizerTest, IsThreadSafe) {
  const UsPhoneNormalizer phones;
  std::vector<std::thread> threads;
  threads.reserve(8);
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&phones, &failures, t] {
      for (int i = 0; i < 200; ++i) {
        const Accepted& c = kAccepted[(t + i) % (sizeof(kAccepted) / sizeof(kAccepted[0]))];
        const absl::StatusOr<std::string> e164 = phones.ToE164(c.input);
        if (!e164.ok() || *e164 != c.e164) ++failures[t];
        if (phones.ToE164("305-555-0123").ok()) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace intake
