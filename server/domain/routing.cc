#include "server/domain/routing.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace intake {
namespace {

// How many skipped providers a detail names before summarising the rest as "and N more".
constexpr size_t kMaxSkippedInDetail = 10;

// ISO numbering (Monday = 1), as Weekday uses.
Weekday IsoWeekday(absl::Weekday day) {
  switch (day) {
    case absl::Weekday::monday:
      return Weekday::kMonday;
    case absl::Weekday::tuesday:
      return Weekday::kTuesday;
    case absl::Weekday::wednesday:
      return Weekday::kWednesday;
    case absl::Weekday::thursday:
      return Weekday::kThursday;
    case absl::Weekday::friday:
      return Weekday::kFriday;
    case absl::Weekday::saturday:
      return Weekday::kSaturday;
    case absl::Weekday::sunday:
      break;
  }
  return Weekday::kSunday;
}

bool IsOpenIn(const Provider& provider, const absl::TimeZone& tz, absl::Time now) {
  if (provider.hours.empty()) return true;
  const absl::CivilMinute local = absl::ToCivilMinute(now, tz);
  const Weekday day = IsoWeekday(absl::GetWeekday(local));
  const int minute = local.hour() * 60 + local.minute();
  return absl::c_any_of(provider.hours, [day, minute](const OpeningPeriod& period) {
    return period.day == day && period.open_minute <= minute && minute < period.close_minute;
  });
}

bool Serves(const Provider& provider, absl::string_view caller_region) {
  if (provider.regions.empty()) return true;
  if (caller_region.empty()) return false;
  return absl::c_find(provider.regions, caller_region) != provider.regions.end();
}

// Why a candidate cannot take a general lead; empty if it can.
std::string IneligibleBecause(const RoutingCandidate& candidate, const RoutingRequest& request,
                              absl::Time now) {
  const Provider& provider = *candidate.provider;
  if (provider.state != ProviderState::kActive) return "paused";
  if (!Serves(provider, request.caller_region)) {
    if (request.caller_region.empty()) return "caller has no region";
    // The region comes from the request; name it only if it is one of the known codes, so
    // nothing a caller typed ends up in the detail.
    if (IsValidRegion(request.caller_region)) {
      return absl::StrCat("does not serve ", request.caller_region);
    }
    return "does not serve the caller's region";
  }
  // Stored providers were validated, but a row written some other way must still not make the
  // loader open a file: LoadIanaTimeZone only tries tz-database names.
  absl::TimeZone tz;
  if (!LoadIanaTimeZone(provider.time_zone, &tz)) return "unknown time zone";
  if (provider.daily_cap != 0 && candidate.assigned_today >= provider.daily_cap) {
    return absl::StrCat("cap ", provider.daily_cap, " reached");
  }
  if (!IsOpenIn(provider, tz, now)) return "closed";
  return "";
}

// The rotation among candidates, for a general lead or a paused owner's listing lead.
// Returns the chosen provider id (empty if nobody is eligible) and appends the explanation to
// *detail.
std::string Rotate(const RoutingRequest& request, absl::Span<const RoutingCandidate> candidates,
                   absl::Time now, std::string* detail) {
  const RoutingCandidate* chosen = nullptr;
  size_t eligible = 0;
  std::vector<std::pair<absl::string_view, std::string>> skipped;
  for (const RoutingCandidate& candidate : candidates) {
    if (candidate.provider == nullptr) continue;
    std::string reason = IneligibleBecause(candidate, request, now);
    if (!reason.empty()) {
      skipped.emplace_back(candidate.provider->provider_id, std::move(reason));
      continue;
    }
    ++eligible;
    if (chosen == nullptr || candidate.last_assigned < chosen->last_assigned ||
        (candidate.last_assigned == chosen->last_assigned &&
         candidate.provider->provider_id < chosen->provider->provider_id)) {
      chosen = &candidate;
    }
  }

  if (chosen != nullptr) {
    absl::StrAppend(detail, "rotation among ", eligible, " eligible");
  } else if (skipped.empty()) {
    absl::StrAppend(detail, "no eligible provider; no candidates");
  } else {
    absl::StrAppend(detail, "no eligible provider");
  }
  if (!skipped.empty()) {
    // Sorted so the detail does not depend on the order the candidates came in.
    std::sort(skipped.begin(), skipped.end());
    absl::StrAppend(detail, "; skipped: ");
    const size_t named = std::min(skipped.size(), kMaxSkippedInDetail);
    for (size_t i = 0; i < named; ++i) {
      absl::StrAppend(detail, i == 0 ? "" : ", ", skipped[i].first, " (", skipped[i].second, ")");
    }
    if (skipped.size() > named) {
      absl::StrAppend(detail, ", and ", skipped.size() - named, " more");
    }
  }
  return chosen == nullptr ? std::string() : chosen->provider->provider_id;
}

}  // namespace

RoutingDecision Route(const RoutingRequest& request, absl::Span<const RoutingCandidate> candidates,
                      absl::Time now) {
  RoutingDecision decision;
  const Provider* owner = request.listing_owner;
  if (owner != nullptr && owner->state == ProviderState::kActive) {
    decision.provider_id = owner->provider_id;
    decision.reason = RoutingReason::kListingOwner;
    decision.detail = absl::StrCat("listing owner ", owner->provider_id);
    return decision;
  }
  if (owner != nullptr) {
    absl::StrAppend(&decision.detail, "listing owner ", owner->provider_id, " is paused; ");
  }
  decision.provider_id = Rotate(request, candidates, now, &decision.detail);
  if (decision.provider_id.empty()) {
    decision.reason = RoutingReason::kNoEligibleProvider;
  } else {
    decision.reason =
        owner != nullptr ? RoutingReason::kListingOwnerPaused : RoutingReason::kRotation;
  }
  return decision;
}

bool IsOpen(const Provider& provider, absl::Time now) {
  if (provider.hours.empty()) return true;
  absl::TimeZone tz;
  // Without its zone there is no local time to judge the hours by.
  if (!LoadIanaTimeZone(provider.time_zone, &tz)) return false;
  return IsOpenIn(provider, tz, now);
}

absl::Time LocalDayStart(const Provider& provider, absl::Time now) {
  absl::TimeZone tz;
  // A zone that does not load leaves tz at UTC, which is the only defensible fallback.
  LoadIanaTimeZone(provider.time_zone, &tz);
  const absl::CivilDay day = absl::ToCivilDay(now, tz);
  const absl::TimeZone::TimeInfo midnight = tz.At(absl::CivilSecond(day));
  // Where a DST change skips local midnight, the day starts at the transition itself; where
  // it repeats midnight, at the first of the two.
  return midnight.kind == absl::TimeZone::TimeInfo::SKIPPED ? midnight.trans : midnight.pre;
}

}  // namespace intake
