// Providers and listings as plain values, with the rules that decide whether one is well
// formed.
#ifndef INTAKE_SERVER_DOMAIN_PROVIDER_H_
#define INTAKE_SERVER_DOMAIN_PROVIDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/domain/field_violation.h"

namespace intake {

enum class ProviderState { kActive, kPaused };

// ISO weekday numbering, as in the API: Monday = 1 ... Sunday = 7.
enum class Weekday { kMonday = 1, kTuesday, kWednesday, kThursday, kFriday, kSaturday, kSunday };

// One span of local opening time: [open_minute, close_minute) after local midnight.
struct OpeningPeriod {
  Weekday day;
  int open_minute;   // 0..1439
  int close_minute;  // open_minute+1..1440

  friend bool operator==(const OpeningPeriod& a, const OpeningPeriod& b) {
    return a.day == b.day && a.open_minute == b.open_minute && a.close_minute == b.close_minute;
  }
};

constexpr absl::string_view kDefaultTimeZone = "America/New_York";
constexpr size_t kMaxOpeningPeriods = 50;

struct Provider {
  std::string provider_id;
  std::string display_name;
  ProviderState state = ProviderState::kActive;
  std::vector<std::string> regions;  // Empty = nationwide.
  uint32_t daily_cap = 0;            // 0 = no cap.
  std::string time_zone{kDefaultTimeZone};
  std::vector<OpeningPeriod> hours;  // Empty = always open.
  absl::Time create_time;
  absl::Time update_time;
};

struct Listing {
  std::string listing_id;
  std::string provider_id;
  std::string display_name;
  std::string region;
  absl::Time create_time;
};

// True for ids ops choose: [a-z0-9][a-z0-9-]{0,63}.
bool IsValidId(absl::string_view id);

// True for the 50 US state codes, "DC" and "PR" (upper case only).
bool IsValidRegion(absl::string_view region);

// True if `text` is valid UTF-8 of `min_chars` to `max_chars` code points with no control
// characters (C0, DEL, C1).
bool IsValidText(absl::string_view text, size_t min_chars, size_t max_chars);

// Loads the IANA zone `name` into *tz. Only names shaped like tz-database names
// ("America/New_York", "Etc/GMT+5", "UTC"; at most 64 characters) are tried, since
// absl::LoadTimeZone also accepts file paths and "localtime". Returns false, with *tz set to
// UTC, for anything else and for a zone that does not load. Thread-safe.
bool LoadIanaTimeZone(absl::string_view name, absl::TimeZone* tz);

// Every rule a provider must meet to be stored, reported against the API's field names
// (`provider_id`, `display_name`, `regions[1]`, `time_zone`, `hours[0].close_minute`, ...):
// a valid id, a display name of 1-200 characters without control characters, valid and
// distinct regions, a time zone LoadIanaTimeZone loads, at most kMaxOpeningPeriods periods
// each with a weekday and 0 <= open < close <= 1440, none overlapping on one day. Empty when
// the provider is fine. `field_prefix` is prepended to every field ("provider." for
// UpdateProvider).
FieldViolations ValidateProvider(const Provider& provider, absl::string_view field_prefix = "");

// The same for a listing: valid listing_id and provider_id, display name 1-200, a valid
// region (required).
FieldViolations ValidateListing(const Listing& listing);

}  // namespace intake

#endif  // INTAKE_SERVER_DOMAIN_PROVIDER_H_
