#include "server/domain/provider.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/domain/text.h"

namespace intake {
namespace {

// Sorted, so IsValidRegion can binary-search it.
constexpr std::array<absl::string_view, 52> kRegions = {
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA",
    "ID", "IL", "IN", "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS",
    "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA",
    "PR", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA", "WI", "WV", "WY",
};

constexpr size_t kMaxIdChars = 64;
constexpr size_t kMaxDisplayNameChars = 200;
constexpr size_t kMaxTimeZoneChars = 64;
constexpr int kMinutesPerDay = 24 * 60;

// absl::LoadTimeZone also accepts absolute and relative file paths, "file:" and "libc:"
// prefixes and "localtime" (the host's zone). A stored provider must name a zone of the tz
// database, and neither an admin request nor a stored row must make the server open arbitrary
// files, so only names shaped like IANA ones ("America/New_York", "Etc/GMT+5", "UTC") reach the
// loader. (The loader caches every name it is asked for, failures included, for the life of
// the process; the length limit keeps those entries small.)
bool LooksLikeIanaName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxTimeZoneChars || name == "localtime") return false;
  bool segment_start = true;
  for (const char c : name) {
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (segment_start) {
      if (!letter) return false;  // Also rules out empty segments, '/' first, "..".
      segment_start = false;
    } else if (c == '/') {
      segment_start = true;
    } else if (!letter && !(c >= '0' && c <= '9') && c != '_' && c != '-' && c != '+') {
      return false;
    }
  }
  return !segment_start;
}

void Add(FieldViolations* violations, absl::string_view prefix, absl::string_view field,
         std::string description) {
  violations->push_back({absl::StrCat(prefix, field), std::move(description)});
}

void CheckId(FieldViolations* violations, absl::string_view prefix, absl::string_view field,
             absl::string_view id) {
  if (id.empty()) {
    Add(violations, prefix, field, "is required");
  } else if (!IsValidId(id)) {
    Add(violations, prefix, field, "must match [a-z0-9][a-z0-9-]{0,63}");
  }
}

void CheckDisplayName(FieldViolations* violations, absl::string_view prefix,
                      absl::string_view name) {
  std::optional<std::string> problem = FindTextProblem(name, {1, kMaxDisplayNameChars});
  if (problem.has_value()) Add(violations, prefix, "display_name", *std::move(problem));
}

constexpr char kRegionDescription[] = "must be a 2-letter US state code, DC or PR";

void CheckRegions(FieldViolations* violations, absl::string_view prefix,
                  const std::vector<std::string>& regions) {
  // More entries than there are codes cannot be valid and distinct; checking only the first
  // kRegions.size() keeps the report (and the work) bounded for a hostile list.
  size_t checked = regions.size();
  if (checked > kRegions.size()) {
    Add(violations, prefix, "regions",
        absl::StrCat("must list at most ", kRegions.size(), " distinct regions"));
    checked = kRegions.size();
  }
  for (size_t i = 0; i < checked; ++i) {
    const std::string field = absl::StrCat("regions[", i, "]");
    if (!IsValidRegion(regions[i])) {
      Add(violations, prefix, field, kRegionDescription);
    } else if (std::find(regions.begin(), regions.begin() + static_cast<std::ptrdiff_t>(i),
                         regions[i]) != regions.begin() + static_cast<std::ptrdiff_t>(i)) {
      Add(violations, prefix, field, "duplicate region");
    }
  }
}

void CheckTimeZone(FieldViolations* violations, absl::string_view prefix,
                   absl::string_view time_zone) {
  absl::TimeZone tz;
  if (time_zone.empty()) {
    Add(violations, prefix, "time_zone", "is required");
  } else if (!LoadIanaTimeZone(time_zone, &tz)) {
    Add(violations, prefix, "time_zone", "unknown IANA time zone");
  }
}

void CheckHours(FieldViolations* violations, absl::string_view prefix,
                const std::vector<OpeningPeriod>& hours) {
  // As with regions, a list past the limit is reported once and only its first
  // kMaxOpeningPeriods entries are examined, which also bounds the pairwise overlap check.
  size_t checked = hours.size();
  if (checked > kMaxOpeningPeriods) {
    Add(violations, prefix, "hours",
        absl::StrCat("must have at most ", kMaxOpeningPeriods, " periods"));
    checked = kMaxOpeningPeriods;
  }
  std::vector<bool> well_formed(checked, false);
  for (size_t i = 0; i < checked; ++i) {
    const OpeningPeriod& period = hours[i];
    const std::string field = absl::StrCat("hours[", i, "]");
    const int day = static_cast<int>(period.day);
    const bool day_ok =
        day >= static_cast<int>(Weekday::kMonday) && day <= static_cast<int>(Weekday::kSunday);
    const bool open_ok = period.open_minute >= 0 && period.open_minute < kMinutesPerDay;
    const bool close_ok = period.close_minute > 0 && period.close_minute <= kMinutesPerDay &&
                          (!open_ok || period.close_minute > period.open_minute);
    if (!day_ok) {
      Add(violations, prefix, absl::StrCat(field, ".day_of_week"),
          "must be a weekday from Monday to Sunday");
    }
    if (!open_ok) {
      Add(violations, prefix, absl::StrCat(field, ".open_minute"), "must be from 0 to 1439");
    }
    if (!close_ok) {
      Add(violations, prefix, absl::StrCat(field, ".close_minute"),
          "must be greater than open_minute and at most 1440");
    }
    well_formed[i] = day_ok && open_ok && close_ok;
    if (!well_formed[i]) continue;
    for (size_t j = 0; j < i; ++j) {
      const OpeningPeriod& earlier = hours[j];
      if (well_formed[j] && earlier.day == period.day &&
          earlier.open_minute < period.close_minute && period.open_minute < earlier.close_minute) {
        Add(violations, prefix, field, absl::StrCat("overlaps hours[", j, "] on the same day"));
        break;
      }
    }
  }
}

}  // namespace

bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxIdChars) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || c != '-')) return false;
  }
  return true;
}

bool IsValidRegion(absl::string_view region) {
  return std::binary_search(kRegions.begin(), kRegions.end(), region);
}

bool IsValidText(absl::string_view text, size_t min_chars, size_t max_chars) {
  return !FindTextProblem(text, {min_chars, max_chars}).has_value();
}

bool LoadIanaTimeZone(absl::string_view name, absl::TimeZone* tz) {
  if (!LooksLikeIanaName(name)) {
    *tz = absl::UTCTimeZone();  // As absl::LoadTimeZone leaves it on failure.
    return false;
  }
  return absl::LoadTimeZone(name, tz);
}

FieldViolations ValidateProvider(const Provider& provider, absl::string_view field_prefix) {
  FieldViolations violations;
  CheckId(&violations, field_prefix, "provider_id", provider.provider_id);
  CheckDisplayName(&violations, field_prefix, provider.display_name);
  CheckRegions(&violations, field_prefix, provider.regions);
  CheckTimeZone(&violations, field_prefix, provider.time_zone);
  CheckHours(&violations, field_prefix, provider.hours);
  return violations;
}

FieldViolations ValidateListing(const Listing& listing) {
  FieldViolations violations;
  CheckId(&violations, "", "listing_id", listing.listing_id);
  CheckId(&violations, "", "provider_id", listing.provider_id);
  CheckDisplayName(&violations, "", listing.display_name);
  if (listing.region.empty()) {
    Add(&violations, "", "region", "is required");
  } else if (!IsValidRegion(listing.region)) {
    Add(&violations, "", "region", kRegionDescription);
  }
  return violations;
}

}  // namespace intake
