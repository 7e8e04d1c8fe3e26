#include "server/domain/submission.h"

#include <string>
#include <utility>
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

// Plain GoogleTest (the domain tests do not link gMock): violations are compared as lists of
// strings.
using Strings = std::vector<std::string>;

// Accepts ten digits, or eleven starting with 1, with any separators, and answers "+1" and the
// ten; refuses anything else with a fixed, value-free reason. Counts its calls.
class FakePhoneNormalizer final : public PhoneNormalizer {
 public:
  absl::StatusOr<std::string> ToE164(absl::string_view input) const override {
    ++calls_;
    std::string digits;
    for (const char c : input) {
      if (absl::ascii_isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
    }
    if (digits.size() == 11 && digits[0] == '1') digits.erase(0, 1);
    if (digits.size() != 10) return absl::InvalidArgumentError("is not a valid US phone number");
    return "+1" + digits;
  }
  int calls() const { return calls_; }

 private:
  mutable int calls_ = 0;
};

// A normaliser that breaks its contract by answering with an empty reason.
class SilentPhoneNormalizer final : public PhoneNormalizer {
 public:
  absl::StatusOr<std::string> ToE164(absl::string_view) const override {
    return absl::InvalidArgumentError("");
  }
};

Submission ValidSubmission() {
  Submission s;
  s.request_id = "b7c6a1e2-3f4d-4e5f-8a9b-0c1d2e3f4a5b";
  s.listing_id = "sunrise-recovery-miami";
  s.caller_name = "Ana María";
  s.phone = "(305) 736-5000";
  s.postal_code = "33101";
  s.region = "FL";
  s.consent_granted = true;
  s.consent_text = "By submitting you agree to be called back by Sunrise Recovery.";
  s.advertisers = {"Sunrise Recovery", "Blue Harbor Health"};
  s.form = {"listing-sidebar-v2",
            "https://example.org/listing/sunrise",
            "https://www.google.com/",
            "Mozilla/5.0 (X11; Linux x86_64)",
            "203.0.113.7",
            "google",
            "cpc",
            "spring"};
  s.message = "Please call after 5pm.\nThanks";
  return s;
}

FieldViolations Validate(Submission& s) {
  FakePhoneNormalizer phones;
  return ValidateSubmission(s, phones);
}

Strings FieldsOf(const FieldViolations& violations) {
  Strings fields;
  for (const FieldViolation& v : violations) fields.push_back(v.field);
  return fields;
}

// "field: description" for each violation.
Strings Described(const FieldViolations& violations) {
  Strings out;
  for (const FieldViolation& v : violations) {
    out.push_back(absl::StrCat(v.field, ": ", v.description));
  }
  return out;
}

// n copies of `unit` (which may be a multibyte character).
std::string Repeat(absl::string_view unit, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) absl::StrAppend(&out, unit);
  return out;
}

TEST(ValidateSubmissionTest, AcceptsAValidSubmission) {
  Submission s = ValidSubmission();
  EXPECT_EQ(Described(Validate(s)), Strings{});
}

TEST(ValidateSubmissionTest, AcceptsTheMinimalSubmission) {
  Submission s;
  s.phone = "3057365000";
  s.consent_granted = true;
  s.consent_text = "x";
  EXPECT_EQ(Described(Validate(s)), Strings{});
  EXPECT_EQ(s.phone, "+13057365000");
}

TEST(ValidateSubmissionTest, NormalisesOnSuccess) {
  Submission s = ValidSubmission();
  s.caller_name = "  Ana María \t";
  s.postal_code = " 33101-1234 ";
  s.region = " fl ";
  s.message = "line one\r\nline two\r\n\tindented";
  ASSERT_EQ(Described(Validate(s)), Strings{});
  EXPECT_EQ(s.caller_name, "Ana María");
  EXPECT_EQ(s.phone, "+13057365000");
  EXPECT_EQ(s.postal_code, "33101-1234");
  EXPECT_EQ(s.region, "FL");
  EXPECT_EQ(s.message, "line one\nline two\n\tindented");
}

TEST(ValidateSubmissionTest, NormalisedSubmissionStaysTheSame) {
  Submission s = ValidSubmission();
  s.caller_name = " Ana ";
  s.region = "fl";
  s.message = "a\r\nb";
  ASSERT_EQ(Described(Validate(s)), Strings{});
  Submission again = s;
  ASSERT_EQ(Described(Validate(again)), Strings{});
  EXPECT_EQ(again.caller_name, s.caller_name);
  EXPECT_EQ(again.phone, s.phone);
  EXPECT_EQ(again.region, s.region);
  EXPECT_EQ(again.message, s.message);
}

TEST(ValidateSubmissionTest, LeavesOtherFieldsAsReceived) {
  Submission s = ValidSubmission();
  s.consent_text = "  Line one.\r\nLine two.  ";
  s.advertisers = {" Sunrise "};
  const Submission before = s;
  ASSERT_EQ(Described(Validate(s)), Strings{});
  EXPECT_EQ(s.consent_text, before.consent_text);
  EXPECT_EQ(s.advertisers, before.advertisers);
  EXPECT_EQ(s.request_id, before.request_id);
  EXPECT_EQ(s.listing_id, before.listing_id);
  EXPECT_EQ(s.form.page_url, before.form.page_url);
  EXPECT_EQ(s.form.client_ip, before.form.client_ip);
}

TEST(ValidateSubmissionTest, LeavesTheSubmissionUntouchedOnFailure) {
  Submission s = ValidSubmission();
  s.caller_name = "  Ana  ";
  s.region = "fl";
  s.message = "a\r\nb";
  s.consent_granted = false;
  ASSERT_EQ(FieldsOf(Validate(s)), (Strings{"consent.granted"}));
  EXPECT_EQ(s.caller_name, "  Ana  ");
  EXPECT_EQ(s.phone, "(305) 736-5000");
  EXPECT_EQ(s.region, "fl");
  EXPECT_EQ(s.message, "a\r\nb");
}

TEST(ValidateSubmissionTest, ReportsEveryViolationAtOnceInFieldOrder) {
  Submission s;
  s.request_id = "not valid!";
  s.listing_id = "Bad_Listing";
  s.caller_name = Repeat("a", kMaxNameChars + 1);
  s.phone = "12345";
  s.postal_code = "3310";
  s.region = "ZZ";
  s.consent_granted = false;
  s.consent_text = "";
  s.advertisers = {"ok", "", "also ok", Repeat("b", kMaxAdvertiserChars + 1)};
  s.form = {Repeat("f", kMaxFormIdChars + 1),
            Repeat("p", kMaxUrlChars + 1),
            Repeat("r", kMaxUrlChars + 1),
            Repeat("u", kMaxUserAgentChars + 1),
            "not-an-ip",
            Repeat("s", kMaxUtmChars + 1),
            Repeat("m", kMaxUtmChars + 1),
            Repeat("c", kMaxUtmChars + 1)};
  s.message = Repeat("z", kMaxMessageChars + 1);
  const Submission before = s;
  EXPECT_EQ(FieldsOf(Validate(s)),
            (Strings{"request_id", "listing_id", "caller.name", "caller.phone",
                     "caller.postal_code", "caller.region", "consent.granted", "consent.text",
                     "consent.advertisers[1]", "consent.advertisers[3]", "form.form_id",
                     "form.page_url", "form.referrer", "form.user_agent", "form.client_ip",
                     "form.utm_source", "form.utm_medium", "form.utm_campaign", "message"}));
  EXPECT_EQ(s.phone, before.phone);
}

// Each limited field, with a setter, its API path and its limit in characters.
struct LimitCase {
  const char* field;
  size_t max_chars;
  void (*set)(Submission&, const std::string&);
};

constexpr LimitCase kLimitCases[] = {
    {"caller.name", kMaxNameChars, [](Submission& s, const std::string& v) { s.caller_name = v; }},
    {"consent.text", kMaxConsentTextChars,
     [](Submission& s, const std::string& v) { s.consent_text = v; }},
    {"consent.advertisers[0]", kMaxAdvertiserChars,
     [](Submission& s, const std::string& v) { s.advertisers = {v}; }},
    {"form.form_id", kMaxFormIdChars,
     [](Submission& s, const std::string& v) { s.form.form_id = v; }},
    {"form.page_url", kMaxUrlChars,
     [](Submission& s, const std::string& v) { s.form.page_url = v; }},
    {"form.referrer", kMaxUrlChars,
     [](Submission& s, const std::string& v) { s.form.referrer = v; }},
    {"form.user_agent", kMaxUserAgentChars,
     [](Submission& s, const std::string& v) { s.form.user_agent = v; }},
    {"form.utm_source", kMaxUtmChars,
     [](Submission& s, const std::string& v) { s.form.utm_source = v; }},
    {"form.utm_medium", kMaxUtmChars,
     [](Submission& s, const std::string& v) { s.form.utm_medium = v; }},
    {"form.utm_campaign", kMaxUtmChars,
     [](Submission& s, const std::string& v) { s.form.utm_campaign = v; }},
    {"message", kMaxMessageChars, [](Submission& s, const std::string& v) { s.message = v; }},
};

TEST(ValidateSubmissionTest, TheContractLimits) {
  EXPECT_EQ(kMaxRequestIdChars, 64u);
  EXPECT_EQ(kMaxNameChars, 100u);
  EXPECT_EQ(kMaxConsentTextChars, 10000u);
  EXPECT_EQ(kMaxAdvertisers, 100u);
  EXPECT_EQ(kMaxAdvertiserChars, 200u);
  EXPECT_EQ(kMaxFormIdChars, 100u);
  EXPECT_EQ(kMaxUrlChars, 2048u);
  EXPECT_EQ(kMaxUserAgentChars, 1024u);
  EXPECT_EQ(kMaxUtmChars, 200u);
  EXPECT_EQ(kMaxMessageChars, 1000u);
}

TEST(ValidateSubmissionTest, LimitsAreCountedInCodePoints) {
  // One, two, three and four UTF-8 bytes per character.
  for (const absl::string_view unit : {"a", "é", "€", "😀"}) {
    for (const LimitCase& c : kLimitCases) {
      SCOPED_TRACE(absl::StrCat(c.field, " with ", unit));
      Submission at_max = ValidSubmission();
      c.set(at_max, Repeat(unit, c.max_chars));
      EXPECT_EQ(Described(Validate(at_max)), Strings{});

      Submission over = ValidSubmission();
      c.set(over, Repeat(unit, c.max_chars + 1));
      EXPECT_EQ(Described(Validate(over)),
                (Strings{absl::StrCat(c.field, ": must be at most ", c.max_chars, " characters")}));
    }
  }
}

TEST(ValidateSubmissionTest, RefusesControlCharacters) {
  // NUL, other C0, DEL and C1 (U+0085 NEL, U+009B CSI).
  for (const absl::string_view control :
       {absl::string_view("\0", 1), absl::string_view("\x1b"), absl::string_view("\x7f"),
        absl::string_view("\u0085"), absl::string_view("\u009b"), absl::string_view("\r")}) {
    for (const LimitCase& c : kLimitCases) {
      if (control == "\r" && absl::string_view(c.field) == "consent.text") continue;
      SCOPED_TRACE(absl::StrCat(c.field, " with U+", absl::Hex(control.back())));
      Submission s = ValidSubmission();
      c.set(s, absl::StrCat("before", control, "after"));
      const FieldViolations violations = Validate(s);
      ASSERT_EQ(FieldsOf(violations), (Strings{c.field}));
      EXPECT_TRUE(absl::StrContains(violations[0].description, "control characters"));
    }
  }
}

TEST(ValidateSubmissionTest, TabAndNewlineOnlyWhereTextHasLines) {
  for (const absl::string_view control : {"\t", "\n"}) {
    for (const LimitCase& c : kLimitCases) {
      SCOPED_TRACE(absl::StrCat(c.field, " with ", control == "\t" ? "tab" : "newline"));
      Submission s = ValidSubmission();
      c.set(s, absl::StrCat("before", control, "after"));
      const absl::string_view field = c.field;
      if (field == "message" || field == "consent.text") {
        EXPECT_EQ(Described(Validate(s)), Strings{});
      } else {
        EXPECT_EQ(FieldsOf(Validate(s)), (Strings{c.field}));
      }
    }
  }
}

TEST(ValidateSubmissionTest, ConsentTextKeepsItsLineBreaksVerbatim) {
  Submission s = ValidSubmission();
  s.consent_text = "Paragraph one.\r\n\r\nParagraph two.\rThree.\n\tFour.";
  const std::string text = s.consent_text;
  ASSERT_EQ(Described(Validate(s)), Strings{});
  EXPECT_EQ(s.consent_text, text);
}

TEST(ValidateSubmissionTest, MessageRefusesALoneCarriageReturn) {
  for (const std::string& message : Strings{"a\rb", "a\r", "a\r\r\nb", "\r"}) {
    SCOPED_TRACE(absl::CEscape(message));
    Submission s = ValidSubmission();
    s.message = message;
    EXPECT_EQ(FieldsOf(Validate(s)), (Strings{"message"}));
  }
}

TEST(ValidateSubmissionTest, MessageLimitCountsFoldedLineBreaks) {
  // 999 characters and one CR LF pair: 1000 characters once stored.
  Submission s = ValidSubmission();
  s.message = Repeat("a", kMaxMessageChars - 1) + "\r\n";
  ASSERT_EQ(Described(Validate(s)), Strings{});
  EXPECT_EQ(s.message.size(), kMaxMessageChars);
}

TEST(ValidateSubmissionTest, RefusesInvalidUtf8) {
  const std::string bad[] = {
      "\x80",              // A stray continuation byte.
      "\xc3",              // A truncated two-byte sequence.
      "\xe2\x82",          // A truncated three-byte sequence.
      "\xc0\xaf",          // An overlong '/'.
      "\xe0\x80\xaf",      // An overlong '/' in three bytes.
      "\xed\xa0\x80",      // A surrogate (U+D800).
      "\xf4\x90\x80\x80",  // Past U+10FFFF.
      "\xff",              // Never valid.
      "\xc3\x28",          // A lead byte followed by ASCII.
  };
  for (const std::string& b : bad) {
    for (const LimitCase& c : kLimitCases) {
      SCOPED_TRACE(absl::StrCat(c.field, " with ", absl::CEscape(b)));
      Submission s = ValidSubmission();
      c.set(s, "ok" + b);
      EXPECT_EQ(Described(Validate(s)), (Strings{absl::StrCat(c.field, ": must be valid UTF-8")}));
    }
  }
}

TEST(ValidateSubmissionTest, AcceptsWellFormedMultibyteText) {
  Submission s = ValidSubmission();
  s.caller_name = "José Nuñez 李小龍 😀";
  s.message = "\xf4\x8f\xbf\xbd \xef\xbf\xbd \xed\x9f\xbf";  // U+10FFFD, U+FFFD, U+D7FF.
  EXPECT_EQ(Described(Validate(s)), Strings{});
}

TEST(ValidateSubmissionTest, ConsentMustBeGranted) {
  Submission s = ValidSubmission();
  s.consent_granted = false;
  EXPECT_EQ(FieldsOf(Validate(s)), (Strings{"consent.granted"}));
}

TEST(ValidateSubmissionTest, ConsentTextIsRequired) {
  Submission s = ValidSubmission();
  s.consent_text.clear();
  EXPECT_EQ(Described(Validate(s)), (Strings{"consent.text: is required"}));
}

TEST(ValidateSubmissionTest, MissingConsentReportsBoth) {
  Submission s = ValidSubmission();
  s.consent_granted = false;
  s.consent_text.clear();
  EXPECT_EQ(FieldsOf(Validate(s)), (Strings{"consent.granted", "consent.text"}));
}

TEST(ValidateSubmissionTest, AdvertiserEntries) {
  Submission s = ValidSubmission();
  s.advertisers = {};
  EXPECT_EQ(Described(Validate(s)), Strings{});

  s.advertisers.assign(kMaxAdvertisers, "Sunrise Recovery");
  EXPECT_EQ(Described(Validate(s)), Strings{});

  s.advertisers.push_back("One Too Many");
  EXPECT_EQ(Described(Validate(s)),
            (Strings{"consent.advertisers: must have at most 100 entries"}));

  // Past the count limit the entries are not examined.
  s.advertisers.assign(kMaxAdvertisers + 50, "");
  EXPECT_EQ(FieldsOf(Validate(s)), (Strings{"consent.advertisers"}));

  s = ValidSubmission();
  s.advertisers = {"A", "", "B", "C\x01"};
  EXPECT_EQ(FieldsOf(Validate(s)), (Strings{"consent.advertisers[1]", "consent.advertisers[3]"}));
}

TEST(ValidateSubmissionTest, RequestId) {
  for (const std::string& ok : Strings{std::string(), std::string("a"), std::string("A-z_0-9"),
                                       std::string(kMaxRequestIdChars, 'x')}) {
    Submission s = ValidSubmission();
    s.request_id = ok;
    EXPECT_EQ(Described(Validate(s)), Strings{}) << ok;
  }
  for (const std::string& bad :
       Strings{std::string(kMaxRequestIdChars + 1, 'x'), std::string("has space"),
               std::string("dot.dot"), std::string("slash/"), std::string("é"), std::string("a\nb"),
               std::string("{uuid}"), std::string("a+b")}) {
    Submission s = ValidSubmission();
    s.request_id = bad;
    EXPECT_EQ(FieldsOf(Validate(s)), (Strings{"request_id"})) << absl::CEscape(bad);
  }
}

TEST(ValidateSubmissionTest, ListingId) {
  for (const std::string& ok : Strings{std::string(), std::string("a"), std::string("0"),
                                       std::string("sunrise-recovery-2"), std::string(64, 'a')}) {
    Submission s = ValidSubmission();
    s.listing_id = ok;
    EXPECT_EQ(Described(Validate(s)), Strings{}) << ok;
  }
  for (const std::string& bad :
       Strings{std::string(65, 'a'), std::string("-leading-dash"), std::string("Upper"),
               std::string("under_score"), std::string("has space"), std::string(" sunrise"),
               std::string("dot.ted")}) {
    Submission s = ValidSubmission();
    s.listing_id = bad;
    EXPECT_EQ(FieldsOf(Validate(s)), (Strings{"listing_id"})) << bad;
  }
}

TEST(ValidateSubmissionTest, NameIsOptionalAndTrimmedBeforeItsLimit) {
  Submission s = ValidSubmission();
  s.caller_name = "";
  EXPECT_EQ(Described(Validate(s)), Strings{});

  s = ValidSubmission();
  s.caller_name = "   ";
  ASSERT_EQ(Described(Validate(s)), Strings{});
  EXPECT_EQ(s.caller_name, "");

  s = ValidSubmission();
  s.caller_name = "  " + Repeat("é", kMaxNameChars) + " ";
  ASSERT_EQ(Described(Validate(s)), Strings{});
  EXPECT_EQ(s.caller_name, Repeat("é", kMaxNameChars));

  // Only surrounding whitespace goes: a tab inside is still a control character.
  s = ValidSubmission();
  s.caller_name = "Ana\tMaría";
  EXPECT_EQ(FieldsOf(Validate(s)), (Strings{"caller.name"}));
}

TEST(ValidateSubmissionTest, PhoneIsRequired) {
  Submission s = ValidSubmission();
  s.phone = "";
  FakePhoneNormalizer phones;
  EXPECT_EQ(Described(ValidateSubmission(s, phones)), (Strings{"caller.phone: is required"}));
  EXPECT_EQ(phones.calls(), 0);
}

TEST(ValidateSubmissionTest, PhoneUsesTheNormalizersReason) {
  Submission s = ValidSubmission();
  s.phone = "555-0123";
  EXPECT_EQ(Described(Validate(s)), (Strings{"caller.phone: is not a valid US phone number"}));

  SilentPhoneNormalizer silent;
  s = ValidSubmission();
  EXPECT_EQ(Described(ValidateSubmission(s, silent)),
            (Strings{"caller.phone: is not a valid phone number"}));
}

TEST(ValidateSubmissionTest, PhoneTextIsCheckedBeforeTheNormalizerSeesIt) {
  for (const std::string& bad : Strings{std::string("305 736 5000\n"), std::string("305\xff"),
                                        std::string(kMaxPhoneChars + 1, '1')}) {
    Submission s = ValidSubmission();
    s.phone = bad;
    FakePhoneNormalizer phones;
    EXPECT_EQ(FieldsOf(ValidateSubmission(s, phones)), (Strings{"caller.phone"}));
    EXPECT_EQ(phones.calls(), 0);
  }
  Submission s = ValidSubmission();
  s.phone = " 305 736 5000 " + std::string(kMaxPhoneChars - 14, ' ');
  EXPECT_EQ(Described(Validate(s)), Strings{});
  EXPECT_EQ(s.phone, "+13057365000");
}

TEST(ValidateSubmissionTest, PostalCode) {
  for (const std::string& ok : Strings{"", "33101", "33101-1234", " 33101 "}) {
    Submission s = ValidSubmission();
    s.postal_code = ok;
    EXPECT_EQ(Described(Validate(s)), Strings{}) << ok;
  }
  for (const std::string& bad : Strings{"3310", "331011", "33101-123", "33101 1234", "33101-12345",
                                        "3310a", "ABCDE", "33101-", "٣٣١٠١", "33101\n-1234"}) {
    Submission s = ValidSubmission();
    s.postal_code = bad;
    EXPECT_EQ(FieldsOf(Validate(s)), (Strings{"caller.postal_code"})) << absl::CEscape(bad);
  }
}

TEST(ValidateSubmissionTest, Region) {
  for (const std::string& ok : Strings{"", "FL", "fl", "Fl", "DC", "pr", " NY "}) {
    Submission s = ValidSubmission();
    s.region = ok;
    ASSERT_EQ(Described(Validate(s)), Strings{}) << ok;
    EXPECT_EQ(s.region, absl::AsciiStrToUpper(absl::StripAsciiWhitespace(ok)));
  }
  for (const std::string& bad : Strings{"ZZ", "F", "FLA", "Florida", "XX", "F L", "ＦＬ"}) {
    Submission s = ValidSubmission();
    s.region = bad;
    EXPECT_EQ(FieldsOf(Validate(s)), (Strings{"caller.region"})) << bad;
  }
}

TEST(ValidateSubmissionTest, ClientIp) {
  for (const std::string& ok :
       Strings{"", "203.0.113.7", "0.0.0.0", "2001:db8::1", "::1", "::ffff:203.0.113.7",
               "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"}) {
    Submission s = ValidSubmission();
    s.form.client_ip = ok;
    EXPECT_EQ(Described(Validate(s)), Strings{}) << ok;
  }
  for (const std::string& bad :
       Strings{"not-an-ip", "203.0.113", "203.0.113.256", "203.0.113.7, 10.0.0.1", " 203.0.113.7",
               "2001:db8::1::2", "[2001:db8::1]", "203.0.113.7:443", std::string("1.2.3.4\0", 8),
               std::string(46, '1')}) {
    Submission s = ValidSubmission();
    s.form.client_ip = bad;
    EXPECT_EQ(Described(Validate(s)), (Strings{"form.client_ip: must be an IPv4 or IPv6 address"}))
        << absl::CEscape(bad);
  }
}

TEST(ValidateSubmissionTest, DescriptionsNeverContainTheValue) {
  Submission s;
  s.request_id = "SECRET request id";
  s.listing_id = "SECRET-listing";
  s.caller_name = "SECRET" + Repeat("n", kMaxNameChars);
  s.phone = "SECRET phone 305";
  s.postal_code = "SECRET";
  s.region = "SECRET";
  s.consent_text = "SECRET\x01";
  s.advertisers = {"SECRET\x02", "SECRET" + Repeat("a", kMaxAdvertiserChars)};
  s.form = {"SECRET\x03", "SECRET\x04", "SECRET\x05", "SECRET\x06",
            "SECRET",     "SECRET\x07", "SECRET\x08", "SECRET\x0e"};
  s.message = "SECRET\x1b[31m";
  const FieldViolations violations = Validate(s);
  EXPECT_EQ(violations.size(), 19u);
  for (const FieldViolation& v : violations) {
    EXPECT_FALSE(absl::StrContains(absl::AsciiStrToLower(v.description), "secret")) << v.field;
    EXPECT_FALSE(absl::StrContains(v.description, "305")) << v.field;
  }
}

TEST(ValidateSubmissionTest, HoneypotIsNotValidated) {
  Submission s = ValidSubmission();
  s.honeypot = std::string("\xff\x01", 2) + Repeat("h", 100000);
  const std::string honeypot = s.honeypot;
  EXPECT_EQ(Described(Validate(s)), Strings{});
  EXPECT_EQ(s.honeypot, honeypot);
}

TEST(IsBotTest, AnyHoneypotValueIsABot) {
  Submission s = ValidSubmission();
  EXPECT_FALSE(IsBot(s));
  for (const std::string& honeypot : Strings{"x", " ", "\t", "http://spam.example"}) {
    s.honeypot = honeypot;
    EXPECT_TRUE(IsBot(s)) << absl::CEscape(honeypot);
  }
}

TEST(IsBotTest, IndependentOfValidity) {
  Submission s;
  s.honeypot = "filled";
  EXPECT_TRUE(IsBot(s));
  EXPECT_FALSE(Validate(s).empty());
}

TEST(NormalizePhoneTest, AppliesTheCallerPhoneRulesWithoutEchoingTheInput) {
  FakePhoneNormalizer phones;
  EXPECT_EQ(NormalizePhone("(305) 736-5000", phones).value_or(""), "+13057365000");
  const struct {
    std::string input;
    std::string reason;
  } bad[] = {
      {"", "is required"},
      {std::string(kMaxPhoneChars + 1, '5'), ""},
      {"305\x01"
       "736 5000",
       ""},
      {"\xff"
       "305",
       ""},
      {"305-736", "is not a valid US phone number"},
  };
  for (const auto& c : bad) {
    absl::StatusOr<std::string> e164 = NormalizePhone(c.input, phones);
    ASSERT_EQ(e164.status().code(), absl::StatusCode::kInvalidArgument) << absl::CEscape(c.input);
    if (!c.reason.empty()) {
      EXPECT_EQ(e164.status().message(), c.reason);
    }
    EXPECT_FALSE(absl::StrContains(e164.status().message(), "305"));
  }
  EXPECT_EQ(NormalizePhone("1", SilentPhoneNormalizer()).status().message(),
            "is not a valid phone number");
}

}  // namespace
}  // namespace intake
