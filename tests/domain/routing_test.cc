#include "server/domain/routing.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace intake {
namespace {

absl::Time Utc(int year, int month, int day, int hour, int minute, int second = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         absl::UTCTimeZone());
}

// 2026-01-07T15:00:00Z, a Wednesday, 10:00 in New York.
constexpr absl::Time kWednesday = absl::FromUnixSeconds(1'767'798'000);

std::vector<OpeningPeriod> EveryDay(int open_minute, int close_minute) {
  std::vector<OpeningPeriod> hours;
  for (int day = 1; day <= 7; ++day) {
    hours.push_back({static_cast<Weekday>(day), open_minute, close_minute});
  }
  return hours;
}

Provider MakeProvider(std::string id, std::vector<std::string> regions = {}) {
  Provider p;
  p.provider_id = std::move(id);
  p.display_name = "Provider";
  p.regions = std::move(regions);
  return p;
}

RoutingCandidate Candidate(const Provider& provider,
                           absl::Time last_assigned = absl::InfinitePast(),
                           uint32_t assigned_today = 0) {
  return RoutingCandidate{&provider, last_assigned, assigned_today};
}

RoutingRequest General(std::string caller_region = "FL") {
  RoutingRequest request;
  request.caller_region = std::move(caller_region);
  return request;
}

RoutingRequest ForListing(const Provider& owner, std::string caller_region = "FL") {
  RoutingRequest request;
  request.listing_owner = &owner;
  request.caller_region = std::move(caller_region);
  return request;
}

TEST(RouteTest, GeneralLeadGoesToLeastRecentlyAssigned) {
  ASSERT_EQ(kWednesday, Utc(2026, 1, 7, 15, 0));
  const Provider a = MakeProvider("alpha");
  const Provider b = MakeProvider("bravo");
  const Provider c = MakeProvider("charlie");
  const std::vector<RoutingCandidate> candidates = {
      Candidate(a, kWednesday - absl::Minutes(1)),
      Candidate(b, kWednesday - absl::Minutes(5)),
      Candidate(c, kWednesday - absl::Minutes(2)),
  };
  const RoutingDecision d = Route(General(), candidates, kWednesday);
  EXPECT_EQ(d.provider_id, "bravo");
  EXPECT_EQ(d.reason, RoutingReason::kRotation);
  EXPECT_EQ(d.detail, "rotation among 3 eligible");
}

TEST(RouteTest, NeverAssignedComesBeforeEverAssigned) {
  const Provider a = MakeProvider("alpha");
  const Provider z = MakeProvider("zulu");
  const std::vector<RoutingCandidate> candidates = {
      Candidate(a, absl::UnixEpoch()),
      Candidate(z, absl::InfinitePast()),
  };
  EXPECT_EQ(Route(General(), candidates, kWednesday).provider_id, "zulu");
}

TEST(RouteTest, TiesAreBrokenByProviderIdWhateverTheOrder) {
  const Provider a = MakeProvider("acme");
  const Provider b = MakeProvider("beta");
  const Provider c = MakeProvider("acme-2");
  const absl::Time t = kWednesday - absl::Hours(1);
  const std::vector<RoutingCandidate> forward = {Candidate(a, t), Candidate(b, t), Candidate(c, t)};
  const std::vector<RoutingCandidate> backward = {Candidate(c, t), Candidate(b, t),
                                                  Candidate(a, t)};
  const RoutingDecision first = Route(General(), forward, kWednesday);
  const RoutingDecision second = Route(General(), backward, kWednesday);
  EXPECT_EQ(first.provider_id, "acme");
  EXPECT_EQ(second.provider_id, "acme");
  EXPECT_EQ(first.detail, second.detail);

  // Never assigned at all: the same rule.
  const std::vector<RoutingCandidate> fresh = {Candidate(b), Candidate(c), Candidate(a)};
  EXPECT_EQ(Route(General(), fresh, kWednesday).provider_id, "acme");
}

TEST(RouteTest, SkipsIneligibleAndSaysWhyInIdOrder) {
  Provider paused = MakeProvider("acme");
  paused.state = ProviderState::kPaused;
  Provider capped = MakeProvider("beta");
  capped.daily_cap = 10;
  Provider closed = MakeProvider("gamma");
  closed.hours = EveryDay(0, 60);  // 00:00-01:00 New York; it is 10:00 there.
  const Provider elsewhere = MakeProvider("delta", {"GA", "TX"});
  const Provider open = MakeProvider("echo", {"FL"});
  // Given in no particular order, and the skipped ones more recently idle than the winner.
  const std::vector<RoutingCandidate> candidates = {
      Candidate(closed), Candidate(open, kWednesday - absl::Seconds(1)), Candidate(elsewhere),
      Candidate(capped, absl::InfinitePast(), 10), Candidate(paused)};
  const RoutingDecision d = Route(General("FL"), candidates, kWednesday);
  EXPECT_EQ(d.provider_id, "echo");
  EXPECT_EQ(d.reason, RoutingReason::kRotation);
  EXPECT_EQ(d.detail,
            "rotation among 1 eligible; skipped: acme (paused), beta (cap 10 reached), "
            "delta (does not serve FL), gamma (closed)");
}

TEST(RouteTest, DailyCap) {
  struct Case {
    uint32_t daily_cap;
    uint32_t assigned_today;
    bool eligible;
  };
  for (const Case& c : std::vector<Case>{{10, 0, true},
                                         {10, 9, true},
                                         {10, 10, false},
                                         {10, 11, false},
                                         {1, 1, false},
                                         {0, 0, true},
                                         {0, 100'000, true}}) {
    Provider p = MakeProvider("capped");
    p.daily_cap = c.daily_cap;
    const std::vector<RoutingCandidate> candidates = {
        Candidate(p, absl::InfinitePast(), c.assigned_today)};
    const RoutingDecision d = Route(General(), candidates, kWednesday);
    EXPECT_EQ(d.provider_id, c.eligible ? "capped" : "")
        << "cap " << c.daily_cap << ", assigned " << c.assigned_today;
    if (!c.eligible) {
      EXPECT_EQ(d.reason, RoutingReason::kNoEligibleProvider);
      EXPECT_EQ(d.detail, "no eligible provider; skipped: capped (cap " +
                              std::to_string(c.daily_cap) + " reached)");
    }
  }
}

TEST(RouteTest, PausedProviderGetsNoGeneralLead) {
  Provider p = MakeProvider("acme");
  p.state = ProviderState::kPaused;
  const Provider q = MakeProvider("zeta");
  const std::vector<RoutingCandidate> candidates = {Candidate(p), Candidate(q, kWednesday)};
  const RoutingDecision d = Route(General(), candidates, kWednesday);
  EXPECT_EQ(d.provider_id, "zeta");
  EXPECT_EQ(d.detail, "rotation among 1 eligible; skipped: acme (paused)");
}

TEST(RouteTest, Regions) {
  struct Case {
    std::vector<std::string> regions;
    std::string caller_region;
    bool eligible;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {{"FL"}, "FL", true, ""},
      {{"GA", "FL"}, "FL", true, ""},
      {{"FL"}, "TX", false, "does not serve TX"},
      {{}, "TX", true, ""},  // Nationwide.
      {{}, "", true, ""},    // Nationwide serves callers without a region.
      {{"FL"}, "", false, "caller has no region"},
      // An unknown region is served by nationwide providers only, and is not echoed.
      {{"FL"}, "Jane Doe", false, "does not serve the caller's region"},
      {{}, "Jane Doe", true, ""},
      {{"FL"}, "fl", false, "does not serve the caller's region"},
  };
  for (const Case& c : cases) {
    const Provider p = MakeProvider("acme", c.regions);
    const std::vector<RoutingCandidate> candidates = {Candidate(p)};
    const RoutingDecision d = Route(General(c.caller_region), candidates, kWednesday);
    const std::string what = "caller region '" + c.caller_region + "'";
    if (c.eligible) {
      EXPECT_EQ(d.provider_id, "acme") << what;
      EXPECT_EQ(d.reason, RoutingReason::kRotation) << what;
    } else {
      EXPECT_EQ(d.provider_id, "") << what;
      EXPECT_EQ(d.reason, RoutingReason::kNoEligibleProvider) << what;
      EXPECT_EQ(d.detail, "no eligible provider; skipped: acme (" + c.reason + ")") << what;
    }
  }
}

TEST(RouteTest, CallerWithoutRegionGoesToNationwideOnly) {
  const Provider regional = MakeProvider("aaa-regional", {"FL"});
  const Provider nationwide = MakeProvider("zzz-nationwide");
  const std::vector<RoutingCandidate> candidates = {
      Candidate(regional), Candidate(nationwide, kWednesday - absl::Seconds(1))};
  const RoutingDecision d = Route(General(""), candidates, kWednesday);
  EXPECT_EQ(d.provider_id, "zzz-nationwide");
  EXPECT_EQ(d.detail, "rotation among 1 eligible; skipped: aaa-regional (caller has no region)");
}

// A provider open 09:00-17:00 New York time every day, and an always-open fallback that was
// assigned more recently, so the first wins whenever it is open. New York is UTC-5 in winter
// (EST) and UTC-4 in summer (EDT); 2026 switches on 03-08 at 02:00 EST (07:00Z) and back on
// 11-01 at 02:00 EDT (06:00Z). So 09:00 local is 14:00Z in winter but 13:00Z in summer.
TEST(RouteTest, OpeningHoursFollowLocalTimeAcrossDstChanges) {
  Provider office = MakeProvider("office");
  office.time_zone = "America/New_York";
  office.hours = EveryDay(9 * 60, 17 * 60);
  const Provider fallback = MakeProvider("fallback");
  struct Case {
    absl::Time now;
    const char* local;
    bool office_open;
  };
  const std::vector<Case> cases = {
      {Utc(2026, 3, 7, 13, 30), "Sat 03-07 08:30 EST", false},
      {Utc(2026, 3, 7, 14, 0), "Sat 03-07 09:00 EST", true},
      {Utc(2026, 3, 7, 21, 30), "Sat 03-07 16:30 EST", true},
      {Utc(2026, 3, 7, 22, 0), "Sat 03-07 17:00 EST", false},
      {Utc(2026, 3, 8, 13, 0), "Sun 03-08 09:00 EDT", true},
      {Utc(2026, 3, 8, 13, 30), "Sun 03-08 09:30 EDT", true},
      {Utc(2026, 3, 8, 20, 59), "Sun 03-08 16:59 EDT", true},
      {Utc(2026, 3, 8, 21, 30), "Sun 03-08 17:30 EDT", false},
      {Utc(2026, 3, 9, 12, 59), "Mon 03-09 08:59 EDT", false},
      {Utc(2026, 3, 9, 13, 30), "Mon 03-09 09:30 EDT", true},
      {Utc(2026, 10, 31, 13, 30), "Sat 10-31 09:30 EDT", true},
      {Utc(2026, 10, 31, 21, 30), "Sat 10-31 17:30 EDT", false},
      {Utc(2026, 11, 1, 13, 30), "Sun 11-01 08:30 EST", false},
      {Utc(2026, 11, 1, 14, 0), "Sun 11-01 09:00 EST", true},
      {Utc(2026, 11, 1, 21, 30), "Sun 11-01 16:30 EST", true},
      {Utc(2026, 11, 2, 13, 30), "Mon 11-02 08:30 EST", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsOpen(office, c.now), c.office_open) << c.local;
    const std::vector<RoutingCandidate> candidates = {Candidate(office, c.now - absl::Hours(2)),
                                                      Candidate(fallback, c.now - absl::Hours(1))};
    const RoutingDecision d = Route(General(), candidates, c.now);
    EXPECT_EQ(d.provider_id, c.office_open ? "office" : "fallback") << c.local;
    EXPECT_EQ(d.detail, c.office_open ? "rotation among 2 eligible"
                                      : "rotation among 1 eligible; skipped: office (closed)")
        << c.local;
  }
}

TEST(RouteTest, UnknownTimeZoneIsNotEligibleAndDoesNotCrash) {
  for (const char* zone : {"Mars/Olympus", "", "/etc/passwd", "localtime"}) {
    Provider p = MakeProvider("acme");
    p.time_zone = zone;
    const std::vector<RoutingCandidate> candidates = {Candidate(p)};
    const RoutingDecision d = Route(General(), candidates, kWednesday);
    EXPECT_EQ(d.reason, RoutingReason::kNoEligibleProvider) << zone;
    EXPECT_EQ(d.detail, "no eligible provider; skipped: acme (unknown time zone)") << zone;
  }
}

TEST(RouteTest, ListingLeadGoesToItsOwnerWhateverItsRegionCapOrHours) {
  Provider owner = MakeProvider("owner", {"TX"});
  owner.daily_cap = 5;
  owner.hours = EveryDay(0, 60);  // Closed at 10:00 New York.
  owner.time_zone = "Nowhere/Special";
  const Provider other = MakeProvider("other");
  const std::vector<RoutingCandidate> candidates = {Candidate(owner, kWednesday, 50),
                                                    Candidate(other)};
  const RoutingDecision d = Route(ForListing(owner, "FL"), candidates, kWednesday);
  EXPECT_EQ(d.provider_id, "owner");
  EXPECT_EQ(d.reason, RoutingReason::kListingOwner);
  EXPECT_EQ(d.detail, "listing owner owner");

  // Also when the owner is not among the candidates at all.
  const RoutingDecision alone = Route(ForListing(owner, ""), {}, kWednesday);
  EXPECT_EQ(alone.provider_id, "owner");
  EXPECT_EQ(alone.reason, RoutingReason::kListingOwner);
}

TEST(RouteTest, PausedListingOwnerFallsBackToRotation) {
  Provider owner = MakeProvider("acme");
  owner.state = ProviderState::kPaused;
  const Provider b = MakeProvider("beta");
  const Provider c = MakeProvider("gamma", {"TX"});
  const std::vector<RoutingCandidate> candidates = {Candidate(owner), Candidate(b), Candidate(c)};
  const RoutingDecision d = Route(ForListing(owner, "FL"), candidates, kWednesday);
  EXPECT_EQ(d.provider_id, "beta");
  EXPECT_EQ(d.reason, RoutingReason::kListingOwnerPaused);
  EXPECT_EQ(d.detail,
            "listing owner acme is paused; rotation among 1 eligible; skipped: acme (paused), "
            "gamma (does not serve FL)");
}

TEST(RouteTest, PausedListingOwnerWithNobodyEligible) {
  Provider owner = MakeProvider("acme");
  owner.state = ProviderState::kPaused;
  const Provider c = MakeProvider("gamma", {"TX"});
  const std::vector<RoutingCandidate> candidates = {Candidate(owner), Candidate(c)};
  const RoutingDecision d = Route(ForListing(owner, "FL"), candidates, kWednesday);
  EXPECT_EQ(d.provider_id, "");
  EXPECT_EQ(d.reason, RoutingReason::kNoEligibleProvider);
  EXPECT_EQ(d.detail,
            "listing owner acme is paused; no eligible provider; skipped: acme (paused), "
            "gamma (does not serve FL)");

  const RoutingDecision none = Route(ForListing(owner, "FL"), {}, kWednesday);
  EXPECT_EQ(none.reason, RoutingReason::kNoEligibleProvider);
  EXPECT_EQ(none.detail, "listing owner acme is paused; no eligible provider; no candidates");
}

TEST(RouteTest, NoEligibleProvider) {
  const RoutingDecision empty = Route(General(), {}, kWednesday);
  EXPECT_EQ(empty.provider_id, "");
  EXPECT_EQ(empty.reason, RoutingReason::kNoEligibleProvider);
  EXPECT_EQ(empty.detail, "no eligible provider; no candidates");

  Provider p = MakeProvider("acme");
  p.state = ProviderState::kPaused;
  const std::vector<RoutingCandidate> candidates = {Candidate(p)};
  const RoutingDecision d = Route(General(), candidates, kWednesday);
  EXPECT_EQ(d.provider_id, "");
  EXPECT_EQ(d.reason, RoutingReason::kNoEligibleProvider);
  EXPECT_EQ(d.detail, "no eligible provider; skipped: acme (paused)");
}

TEST(RouteTest, DetailNamesAtMostTenSkippedProviders) {
  std::vector<Provider> providers;
  providers.reserve(26);
  for (char c = 'a'; c <= 'z'; ++c) {
    providers.push_back(MakeProvider(std::string(3, c)));
    providers.back().state = ProviderState::kPaused;
  }
  providers.back().state = ProviderState::kActive;  // "zzz" is the only eligible one.
  std::vector<RoutingCandidate> candidates;
  candidates.reserve(providers.size());
  for (const Provider& p : providers) candidates.push_back(Candidate(p));
  const RoutingDecision d = Route(General(), candidates, kWednesday);
  EXPECT_EQ(d.provider_id, "zzz");
  EXPECT_EQ(d.detail,
            "rotation among 1 eligible; skipped: aaa (paused), bbb (paused), ccc (paused), "
            "ddd (paused), eee (paused), fff (paused), ggg (paused), hhh (paused), "
            "iii (paused), jjj (paused), and 15 more");
}

TEST(RouteTest, IsPure) {
  const Provider a = MakeProvider("acme");
  Provider b = MakeProvider("beta");
  b.state = ProviderState::kPaused;
  const std::vector<RoutingCandidate> candidates = {Candidate(a), Candidate(b)};
  const RoutingDecision first = Route(General(), candidates, kWednesday);
  const RoutingDecision second = Route(General(), candidates, kWednesday);
  EXPECT_EQ(first.provider_id, second.provider_id);
  EXPECT_EQ(first.reason, second.reason);
  EXPECT_EQ(first.detail, second.detail);
}

// 10,000 general leads, one a second, across five identical providers: the rotation gives
// each the same share.
TEST(RouteTest, RotationIsFairAcrossEqualProviders) {
  std::vector<Provider> providers;
  for (const char* id : {"p1", "p2", "p3", "p4", "p5"}) providers.push_back(MakeProvider(id));
  std::vector<RoutingCandidate> candidates;
  candidates.reserve(providers.size());
  for (const Provider& p : providers) candidates.push_back(Candidate(p));

  std::map<std::string, int> leads;
  absl::Time now = kWednesday;
  for (int i = 0; i < 10'000; ++i) {
    const RoutingDecision d = Route(General(), candidates, now);
    ASSERT_EQ(d.reason, RoutingReason::kRotation);
    bool found = false;
    for (RoutingCandidate& c : candidates) {
      if (c.provider->provider_id == d.provider_id) {
        c.last_assigned = now;
        ++c.assigned_today;
        found = true;
      }
    }
    ASSERT_TRUE(found) << d.provider_id;
    ++leads[d.provider_id];
    now += absl::Seconds(1);
  }
  ASSERT_EQ(leads.size(), 5u);
  for (const auto& [id, count] : leads) EXPECT_NEAR(count, 2000, 1) << id;
}

TEST(IsOpenTest, NoHoursMeansAlwaysOpen) {
  const Provider p = MakeProvider("acme");
  EXPECT_TRUE(IsOpen(p, kWednesday));
  EXPECT_TRUE(IsOpen(p, Utc(2026, 3, 8, 7, 0)));
}

TEST(IsOpenTest, EdgeMinutes) {
  Provider p = MakeProvider("acme");
  p.time_zone = "UTC";
  // 2026-01-05 is a Monday, 2026-01-04 a Sunday.
  p.hours = {{Weekday::kMonday, 540, 1020},
             {Weekday::kMonday, 1320, 1440},
             {Weekday::kTuesday, 0, 60},
             {Weekday::kSunday, 600, 601}};
  struct Case {
    absl::Time now;
    bool open;
  };
  const std::vector<Case> cases = {
      {Utc(2026, 1, 5, 8, 59, 59), false},  {Utc(2026, 1, 5, 9, 0), true},
      {Utc(2026, 1, 5, 16, 59, 59), true},  {Utc(2026, 1, 5, 17, 0), false},
      {Utc(2026, 1, 5, 21, 59, 59), false}, {Utc(2026, 1, 5, 22, 0), true},
      {Utc(2026, 1, 5, 23, 59, 59), true},  {Utc(2026, 1, 6, 0, 0), true},
      {Utc(2026, 1, 6, 0, 59, 59), true},   {Utc(2026, 1, 6, 1, 0), false},
      {Utc(2026, 1, 6, 9, 30), false},      {Utc(2026, 1, 4, 9, 59), false},
      {Utc(2026, 1, 4, 10, 0), true},       {Utc(2026, 1, 4, 10, 0, 59), true},
      {Utc(2026, 1, 4, 10, 1), false},      {Utc(2026, 1, 11, 10, 0), true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsOpen(p, c.now), c.open) << absl::FormatTime(c.now);
  }
}

TEST(IsOpenTest, SkippedAndRepeatedLocalHours) {
  Provider p = MakeProvider("acme");
  p.time_zone = "America/New_York";
  // 02:00-03:00 local does not exist on 2026-03-08; 01:00-02:00 happens twice on 2026-11-01.
  p.hours = {{Weekday::kSunday, 120, 180}, {Weekday::kSunday, 60, 120}};
  EXPECT_FALSE(IsOpen(p, Utc(2026, 3, 8, 5, 59)));  // 00:59 EST.
  EXPECT_TRUE(IsOpen(p, Utc(2026, 3, 8, 6, 59)));   // 01:59 EST.
  EXPECT_TRUE(IsOpen(p, Utc(2026, 3, 8, 6, 30)));   // 01:30 EST.
  EXPECT_FALSE(IsOpen(p, Utc(2026, 3, 8, 7, 0)));   // 03:00 EDT: the 02:00 hour was skipped.
  EXPECT_TRUE(IsOpen(p, Utc(2026, 11, 1, 5, 30)));  // 01:30 EDT.
  EXPECT_TRUE(IsOpen(p, Utc(2026, 11, 1, 6, 30)));  // 01:30 EST, the second time round.
  EXPECT_TRUE(IsOpen(p, Utc(2026, 11, 1, 7, 30)));  // 02:30 EST.
  EXPECT_FALSE(IsOpen(p, Utc(2026, 11, 1, 8, 0)));  // 03:00 EST.
}

TEST(IsOpenTest, UnknownTimeZoneWithHoursIsClosed) {
  Provider p = MakeProvider("acme");
  p.time_zone = "Nowhere/Special";
  p.hours = EveryDay(0, 1440);
  EXPECT_FALSE(IsOpen(p, kWednesday));
}

TEST(LocalDayStartTest, FollowsLocalMidnightAcrossDst) {
  Provider p = MakeProvider("acme");
  p.time_zone = "America/New_York";
  struct Case {
    absl::Time now;
    absl::Time day_start;
  };
  const std::vector<Case> cases = {
      {kWednesday, Utc(2026, 1, 7, 5, 0)},
      {Utc(2026, 1, 7, 4, 59), Utc(2026, 1, 6, 5, 0)},  // 23:59 EST the day before.
      {Utc(2026, 1, 7, 5, 0), Utc(2026, 1, 7, 5, 0)},
      // 2026-03-08 starts in EST and is 23 hours long.
      {Utc(2026, 3, 8, 5, 0), Utc(2026, 3, 8, 5, 0)},
      {Utc(2026, 3, 8, 12, 0), Utc(2026, 3, 8, 5, 0)},
      {Utc(2026, 3, 9, 3, 59), Utc(2026, 3, 8, 5, 0)},  // 23:59 EDT.
      {Utc(2026, 3, 9, 4, 0), Utc(2026, 3, 9, 4, 0)},
      // 2026-11-01 starts in EDT and is 25 hours long.
      {Utc(2026, 11, 1, 4, 0), Utc(2026, 11, 1, 4, 0)},
      {Utc(2026, 11, 1, 12, 0), Utc(2026, 11, 1, 4, 0)},
      {Utc(2026, 11, 2, 4, 59), Utc(2026, 11, 1, 4, 0)},  // 23:59 EST.
      {Utc(2026, 11, 2, 5, 0), Utc(2026, 11, 2, 5, 0)},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(LocalDayStart(p, c.now), c.day_start) << absl::FormatTime(c.now);
  }
}

TEST(LocalDayStartTest, DayWhoseMidnightIsSkipped) {
  // Brazil moved its clocks from 00:00 to 01:00 on 2018-11-04: that day began at 01:00 -02,
  // which is 03:00Z.
  Provider p = MakeProvider("acme");
  p.time_zone = "America/Sao_Paulo";
  EXPECT_EQ(LocalDayStart(p, Utc(2018, 11, 4, 15, 0)), Utc(2018, 11, 4, 3, 0));
  EXPECT_EQ(LocalDayStart(p, Utc(2018, 11, 4, 3, 0)), Utc(2018, 11, 4, 3, 0));
  EXPECT_EQ(LocalDayStart(p, Utc(2018, 11, 4, 2, 59)), Utc(2018, 11, 3, 3, 0));
}

TEST(LocalDayStartTest, OtherZonesAndUnknownZone) {
  Provider p = MakeProvider("acme");
  p.time_zone = "America/Los_Angeles";
  EXPECT_EQ(LocalDayStart(p, kWednesday), Utc(2026, 1, 7, 8, 0));
  p.time_zone = "UTC";
  EXPECT_EQ(LocalDayStart(p, kWednesday), Utc(2026, 1, 7, 0, 0));
  p.time_zone = "Nowhere/Special";  // Falls back to UTC rather than failing.
  EXPECT_EQ(LocalDayStart(p, kWednesday), Utc(2026, 1, 7, 0, 0));
}

}  // namespace
}  // namespace intake
