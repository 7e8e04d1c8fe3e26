#include "server/domain/provider.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace intake {
namespace {

// U+00E9, two bytes in UTF-8.
constexpr absl::string_view kEAcute = "\xC3\xA9";

std::string Repeat(absl::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out.append(s.data(), s.size());
  return out;
}

Provider ValidProvider() {
  Provider p;
  p.provider_id = "acme-health";
  p.display_name = "Acme Health";
  p.regions = {"FL", "TX"};
  p.daily_cap = 20;
  p.time_zone = "America/New_York";
  p.hours = {{Weekday::kMonday, 540, 1020}, {Weekday::kMonday, 1080, 1440}};
  return p;
}

Listing ValidListing() {
  Listing l;
  l.listing_id = "acme-miami";
  l.provider_id = "acme-health";
  l.display_name = "Acme Miami Recovery";
  l.region = "FL";
  return l;
}

using Strings = std::vector<std::string>;

Strings Fields(const FieldViolations& violations) {
  Strings fields;
  for (const FieldViolation& v : violations) fields.push_back(v.field);
  return fields;
}

// For failure messages: "field: description; ...".
std::string Describe(const FieldViolations& violations) {
  return absl::StrJoin(violations, "; ", [](std::string* out, const FieldViolation& v) {
    absl::StrAppend(out, v.field, ": ", v.description);
  });
}

bool Contains(absl::string_view haystack, absl::string_view needle) {
  return haystack.find(needle) != absl::string_view::npos;
}

TEST(IsValidIdTest, Table) {
  struct Case {
    std::string id;
    bool valid;
  };
  const std::vector<Case> cases = {
      {"a", true},
      {"0", true},
      {"acme-health", true},
      {"a-", true},
      {"9lives", true},
      {std::string(64, 'a'), true},
      {"a" + std::string(63, '-'), true},
      {"", false},
      {std::string(65, 'a'), false},
      {"-acme", false},
      {"Acme", false},
      {"acme_health", false},
      {"acme health", false},
      {"acme.health", false},
      {"acme/health", false},
      {std::string("ac\0me", 5), false},
      {absl::StrCat("caf", kEAcute), false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsValidId(c.id), c.valid) << "id of " << c.id.size() << " bytes: " << c.id;
  }
}

TEST(IsValidRegionTest, ExactlyTheStatesDcAndPr) {
  int valid = 0;
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) {
      if (IsValidRegion(std::string{a, b})) ++valid;
    }
  }
  EXPECT_EQ(valid, 52);
  for (const char* region : {"AL", "AK", "CA", "DC", "FL", "NY", "PR", "TX", "WY"}) {
    EXPECT_TRUE(IsValidRegion(region)) << region;
  }
  for (const char* region :
       {"", "F", "fl", "Fl", "FLA", "GU", "VI", "AS", "MP", "UM", "XX", " FL", "FL "}) {
    EXPECT_FALSE(IsValidRegion(region)) << region;
  }
}

TEST(IsValidTextTest, Table) {
  struct Case {
    const char* what;
    std::string text;
    size_t min_chars;
    size_t max_chars;
    bool valid;
  };
  const std::string e3 = Repeat(kEAcute, 3);
  const std::vector<Case> cases = {
      {"ascii", "Jane Doe", 1, 100, true},
      {"empty allowed", "", 0, 10, true},
      {"empty refused", "", 1, 10, false},
      {"two-byte chars count once", e3, 3, 3, true},
      {"two-byte chars over the limit", e3, 1, 2, false},
      {"two-byte chars under the minimum", e3, 4, 10, false},
      {"three-byte euro", "\xE2\x82\xAC", 1, 1, true},
      {"four-byte emoji", "\xF0\x9F\x98\x80", 1, 1, true},
      {"max code point", "\xF4\x8F\xBF\xBF", 1, 1, true},
      {"no-break space U+00A0", "\xC2\xA0", 1, 1, true},
      {"truncated two-byte", "\xC3", 0, 10, false},
      {"truncated four-byte", "\xF0\x9F\x98", 0, 10, false},
      {"lone continuation byte", "\x80", 0, 10, false},
      {"overlong slash C0 AF", "\xC0\xAF", 0, 10, false},
      {"overlong C1 BF", "\xC1\xBF", 0, 10, false},
      {"overlong three-byte", "\xE0\x80\xAF", 0, 10, false},
      {"overlong four-byte", "\xF0\x80\x80\xAF", 0, 10, false},
      {"surrogate U+D800", "\xED\xA0\x80", 0, 10, false},
      {"above U+10FFFF", "\xF4\x90\x80\x80", 0, 10, false},
      {"F5 lead byte", "\xF5\x80\x80\x80", 0, 10, false},
      {"FF byte", "a\xFF", 0, 10, false},
      {"bad continuation", "\xE2\x28\xA1", 0, 10, false},
      {"NUL", std::string("a\0b", 3), 0, 10, false},
      {"tab", "a\tb", 0, 10, false},
      {"newline", "a\nb", 0, 10, false},
      {"carriage return", "a\rb", 0, 10, false},
      {"escape", "a\x1b[31m", 0, 10, false},
      {"unit separator U+001F", "a\x1F", 0, 10, false},
      {"DEL", "a\x7F", 0, 10, false},
      {"C1 U+0080", "a\xC2\x80", 0, 10, false},
      {"C1 U+0085 next line", "a\xC2\x85", 0, 10, false},
      {"C1 U+009F", "a\xC2\x9F", 0, 10, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsValidText(c.text, c.min_chars, c.max_chars), c.valid) << c.what;
  }
}

TEST(ValidateProviderTest, ValidProviderHasNoViolations) {
  EXPECT_EQ(Describe(ValidateProvider(ValidProvider())), "");
}

TEST(ValidateProviderTest, ValidBoundaryValues) {
  Provider p = ValidProvider();
  p.provider_id = std::string(64, 'z');
  p.display_name = Repeat(kEAcute, 200);  // 200 characters, 400 bytes.
  p.regions = {};                         // Nationwide.
  p.daily_cap = 0;                        // No cap.
  p.hours = {};                           // Always open.
  EXPECT_EQ(Describe(ValidateProvider(p)), "");

  p.display_name = std::string("x");
  p.regions = {"AK", "DC", "PR", "WY"};
  // Edges of a day, adjacent periods (close == next open) and periods on several days.
  p.hours = {{Weekday::kSunday, 0, 1},        {Weekday::kSunday, 1, 1440},
             {Weekday::kMonday, 1439, 1440},  {Weekday::kTuesday, 0, 1440},
             {Weekday::kWednesday, 600, 700}, {Weekday::kThursday, 600, 700}};
  EXPECT_EQ(Describe(ValidateProvider(p)), "");

  p.hours.clear();
  for (size_t i = 0; i < kMaxOpeningPeriods; ++i) {
    p.hours.push_back({static_cast<Weekday>(1 + i % 7), static_cast<int>(i / 7) * 60,
                       static_cast<int>(i / 7) * 60 + 30});
  }
  EXPECT_EQ(Describe(ValidateProvider(p)), "");
}

TEST(LoadIanaTimeZoneTest, LoadsTzDatabaseNamesOnly) {
  absl::TimeZone tz;
  ASSERT_TRUE(LoadIanaTimeZone("America/Chicago", &tz));
  EXPECT_EQ(tz.name(), "America/Chicago");
  // Refused before the loader sees it (a path, "localtime") or by the loader: either way *tz is
  // UTC afterwards, whatever it held.
  for (const char* name : {"/usr/share/zoneinfo/UTC", "localtime", "Nowhere/Special", ""}) {
    ASSERT_TRUE(LoadIanaTimeZone("America/Chicago", &tz));
    EXPECT_FALSE(LoadIanaTimeZone(name, &tz)) << name;
    EXPECT_EQ(tz, absl::UTCTimeZone()) << name;
  }
}

TEST(ValidateProviderTest, ValidTimeZones) {
  for (const char* zone :
       {"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
        "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico",
        "America/Argentina/Buenos_Aires", "America/Port-au-Prince", "Etc/GMT+5", "UTC"}) {
    Provider p = ValidProvider();
    p.time_zone = zone;
    EXPECT_EQ(Describe(ValidateProvider(p)), "") << zone;
  }
}

// One broken field at a time: exactly one violation, on the API's field path, whose
// description never repeats the submitted value.
TEST(ValidateProviderTest, EachInvalidFieldIsReportedOnItsPath) {
  struct Case {
    const char* what;
    std::function<void(Provider&)> mutate;
    std::string field;
    std::string value;  // What the description must not contain ("" = nothing to check).
  };
  const std::vector<Case> cases = {
      {"empty id", [](Provider& p) { p.provider_id = ""; }, "provider_id", ""},
      {"upper-case id", [](Provider& p) { p.provider_id = "SecretCo"; }, "provider_id", "SecretCo"},
      {"id too long", [](Provider& p) { p.provider_id = std::string(65, 'q'); }, "provider_id",
       std::string(65, 'q')},
      {"id with leading hyphen", [](Provider& p) { p.provider_id = "-qqq"; }, "provider_id",
       "-qqq"},
      {"empty name", [](Provider& p) { p.display_name = ""; }, "display_name", ""},
      {"name too long", [](Provider& p) { p.display_name = Repeat(kEAcute, 201); }, "display_name",
       Repeat(kEAcute, 201)},
      {"name with a newline", [](Provider& p) { p.display_name = "Quux\nClinic"; }, "display_name",
       "Quux"},
      {"name with C1 control", [](Provider& p) { p.display_name = "Quux\xC2\x85"; }, "display_name",
       "Quux"},
      {"name with invalid UTF-8", [](Provider& p) { p.display_name = "Quux\xC3("; }, "display_name",
       "Quux"},
      {"lower-case region",
       [](Provider& p) {
         p.regions = {"FL", "tx"};
       },
       "regions[1]", "tx"},
      {"unknown region", [](Provider& p) { p.regions = {"QQ"}; }, "regions[0]", "QQ"},
      {"territory not served",
       [](Provider& p) {
         p.regions = {"FL", "TX", "GU"};
       },
       "regions[2]", "GU"},
      {"duplicate region",
       [](Provider& p) {
         p.regions = {"FL", "TX", "FL"};
       },
       "regions[2]", ""},
      {"empty time zone", [](Provider& p) { p.time_zone = ""; }, "time_zone", ""},
      {"unknown time zone", [](Provider& p) { p.time_zone = "Mars/Olympus_Mons"; }, "time_zone",
       "Olympus"},
      {"lower-case time zone", [](Provider& p) { p.time_zone = "america/new_york"; }, "time_zone",
       "new_york"},
      {"absolute path", [](Provider& p) { p.time_zone = "/usr/share/zoneinfo/UTC"; }, "time_zone",
       "zoneinfo"},
      {"relative path", [](Provider& p) { p.time_zone = "../zoneinfo/America/Chicago"; },
       "time_zone", "Chicago"},
      {"file: prefix", [](Provider& p) { p.time_zone = "file:/usr/share/zoneinfo/UTC"; },
       "time_zone", "zoneinfo"},
      {"libc: prefix", [](Provider& p) { p.time_zone = "libc:America/Chicago"; }, "time_zone",
       "Chicago"},
      {"host local zone", [](Provider& p) { p.time_zone = "localtime"; }, "time_zone", "localtime"},
      {"fixed offset", [](Provider& p) { p.time_zone = "Fixed/UTC+05:00"; }, "time_zone", "Fixed"},
      {"unspecified weekday", [](Provider& p) { p.hours[0].day = static_cast<Weekday>(0); },
       "hours[0].day_of_week", ""},
      {"weekday 8", [](Provider& p) { p.hours[1].day = static_cast<Weekday>(8); },
       "hours[1].day_of_week", ""},
      {"negative open", [](Provider& p) { p.hours[0].open_minute = -1; }, "hours[0].open_minute",
       "-1"},
      {"open 1440", [](Provider& p) { p.hours[1].open_minute = 1440; }, "hours[1].open_minute",
       "1440"},
      {"close before open", [](Provider& p) { p.hours[0].close_minute = 539; },
       "hours[0].close_minute", "539"},
      {"close equal to open", [](Provider& p) { p.hours[0].close_minute = 540; },
       "hours[0].close_minute", ""},
      {"close past midnight", [](Provider& p) { p.hours[1].close_minute = 1441; },
       "hours[1].close_minute", "1441"},
      {"overlapping periods",
       [](Provider& p) {
         p.hours[1] = {Weekday::kMonday, 1019, 1100};
       },
       "hours[1]", "1019"},
      {"identical periods", [](Provider& p) { p.hours[1] = p.hours[0]; }, "hours[1]", ""},
      {"too many periods",
       [](Provider& p) {
         p.hours.clear();
         for (size_t i = 0; i <= kMaxOpeningPeriods; ++i) {
           p.hours.push_back({Weekday::kFriday, static_cast<int>(i), static_cast<int>(i) + 1});
         }
       },
       "hours", ""},
  };
  for (const Case& c : cases) {
    Provider p = ValidProvider();
    c.mutate(p);
    const FieldViolations violations = ValidateProvider(p);
    ASSERT_EQ(violations.size(), 1u) << c.what << ": " << Describe(violations);
    EXPECT_EQ(violations[0].field, c.field) << c.what;
    EXPECT_FALSE(violations[0].description.empty()) << c.what;
    if (!c.value.empty()) {
      EXPECT_FALSE(Contains(violations[0].description, c.value)) << c.what;
    }
  }
}

TEST(ValidateProviderTest, ReportsEveryViolationTogether) {
  Provider p;
  p.provider_id = "Bad Id";
  p.display_name = "";
  p.regions = {"FL", "ZZ", "FL"};
  p.time_zone = "Nowhere/Special";
  p.hours = {{static_cast<Weekday>(9), -5, 2000},
             {Weekday::kMonday, 60, 120},
             {Weekday::kMonday, 90, 100}};
  EXPECT_EQ(Fields(ValidateProvider(p)),
            (Strings{"provider_id", "display_name", "regions[1]", "regions[2]", "time_zone",
                     "hours[0].day_of_week", "hours[0].open_minute", "hours[0].close_minute",
                     "hours[2]"}));
}

TEST(ValidateProviderTest, DescriptionsAreSentences) {
  Provider p = ValidProvider();
  p.provider_id = "Nope";
  p.regions = {"FL", "FL"};
  p.time_zone = "Nowhere/Special";
  p.hours[1] = {Weekday::kMonday, 600, 700};
  EXPECT_EQ(Describe(ValidateProvider(p)),
            "provider_id: must match [a-z0-9][a-z0-9-]{0,63}; regions[1]: duplicate region; "
            "time_zone: unknown IANA time zone; hours[1]: overlaps hours[0] on the same day");
}

TEST(ValidateProviderTest, OverlapOnlyCountsOnTheSameDay) {
  Provider p = ValidProvider();
  p.hours = {{Weekday::kMonday, 540, 1020}, {Weekday::kTuesday, 540, 1020}};
  EXPECT_EQ(Describe(ValidateProvider(p)), "");
  // The later period is the one reported, whatever the order of their times.
  p.hours = {{Weekday::kMonday, 600, 700}, {Weekday::kTuesday, 0, 10}, {Weekday::kMonday, 0, 601}};
  EXPECT_EQ(Fields(ValidateProvider(p)), Strings{"hours[2]"});
}

TEST(ValidateProviderTest, TooManyRegionsIsReportedOnceAndBounded) {
  Provider p = ValidProvider();
  p.regions.assign(10'000, "QQ");
  const FieldViolations violations = ValidateProvider(p);
  ASSERT_FALSE(violations.empty());
  EXPECT_EQ(violations[0].field, "regions");
  EXPECT_LE(violations.size(), 53u);
}

TEST(ValidateProviderTest, FieldPrefixIsPrepended) {
  Provider p = ValidProvider();
  p.provider_id = "";
  p.regions = {"FL", "XX"};
  p.hours[0].close_minute = 0;
  EXPECT_EQ(
      Fields(ValidateProvider(p, "provider.")),
      (Strings{"provider.provider_id", "provider.regions[1]", "provider.hours[0].close_minute"}));
}

TEST(ValidateListingTest, ValidListingHasNoViolations) {
  EXPECT_EQ(Describe(ValidateListing(ValidListing())), "");
  Listing l = ValidListing();
  l.listing_id = std::string(64, '7');
  l.display_name = Repeat("\xE2\x82\xAC", 200);
  l.region = "PR";
  EXPECT_EQ(Describe(ValidateListing(l)), "");
}

TEST(ValidateListingTest, EachInvalidFieldIsReportedOnItsPath) {
  struct Case {
    const char* what;
    std::function<void(Listing&)> mutate;
    std::string field;
    std::string value;
  };
  const std::vector<Case> cases = {
      {"empty listing id", [](Listing& l) { l.listing_id = ""; }, "listing_id", ""},
      {"bad listing id", [](Listing& l) { l.listing_id = "Miami Center"; }, "listing_id", "Miami"},
      {"empty provider id", [](Listing& l) { l.provider_id = ""; }, "provider_id", ""},
      {"bad provider id", [](Listing& l) { l.provider_id = "acme_co"; }, "provider_id", "acme_co"},
      {"empty name", [](Listing& l) { l.display_name = ""; }, "display_name", ""},
      {"name too long", [](Listing& l) { l.display_name = std::string(201, 'w'); }, "display_name",
       "www"},
      {"name with DEL", [](Listing& l) { l.display_name = "Quux\x7F"; }, "display_name", "Quux"},
      {"missing region", [](Listing& l) { l.region = ""; }, "region", ""},
      {"bad region", [](Listing& l) { l.region = "Florida"; }, "region", "Florida"},
  };
  for (const Case& c : cases) {
    Listing l = ValidListing();
    c.mutate(l);
    const FieldViolations violations = ValidateListing(l);
    ASSERT_EQ(violations.size(), 1u) << c.what << ": " << Describe(violations);
    EXPECT_EQ(violations[0].field, c.field) << c.what;
    if (!c.value.empty()) {
      EXPECT_FALSE(Contains(violations[0].description, c.value)) << c.what;
    }
  }
}

TEST(ValidateListingTest, ReportsEveryViolationTogether) {
  const Listing l;
  EXPECT_EQ(Describe(ValidateListing(l)),
            "listing_id: is required; provider_id: is required; display_name: is required; "
            "region: is required");
}

}  // namespace
}  // namespace intake
