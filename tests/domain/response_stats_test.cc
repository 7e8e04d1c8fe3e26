#include "server/domain/response_stats.h"

#include <vector>

#include "gtest/gtest.h"

namespace intake {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'780'000'000);

ResponseSample Lead(absl::Duration age, std::optional<absl::Duration> contacted_after) {
  ResponseSample s{kNow - age, std::nullopt};
  if (contacted_after) s.first_contact_time = s.create_time + *contacted_after;
  return s;
}

TEST(ResponseFiguresTest, NoLeadsMeansNoSample) {
  const ResponseFigures f = ComputeResponseFigures({}, ResponsePolicy{}, kNow);
  EXPECT_EQ(f.sample_size, 0u);
  EXPECT_EQ(f.response_rate, 0);
  EXPECT_EQ(f.median_response, absl::ZeroDuration());
  EXPECT_EQ(f.window_days, 30u);
}

TEST(ResponseFiguresTest, MedianAndRateFromContactTimes) {
  const std::vector<ResponseSample> samples = {
      Lead(absl::Hours(5), absl::Minutes(1)),
      Lead(absl::Hours(5), absl::Minutes(3)),
      Lead(absl::Hours(5), absl::Minutes(2)),
      Lead(absl::Hours(5), absl::Hours(2)),  // Contacted, but late.
      Lead(absl::Hours(5), std::nullopt),    // Never contacted, and overdue.
  };
  const ResponseFigures f = ComputeResponseFigures(samples, ResponsePolicy{}, kNow);
  EXPECT_EQ(f.sample_size, 5u);
  EXPECT_DOUBLE_EQ(f.response_rate, 3.0 / 5);
  // Median of {1, 2, 3, 120} minutes: the mean of 2 and 3.
  EXPECT_EQ(f.median_response, absl::Seconds(150));
}

TEST(ResponseFiguresTest, YoungUncontactedLeadsAreNotLateYet) {
  const std::vector<ResponseSample> samples = {
      Lead(absl::Minutes(10), std::nullopt),      // Within the SLA: not counted.
      Lead(absl::Minutes(10), absl::Minutes(4)),  // Counted: it has a response.
      Lead(absl::Minutes(61), std::nullopt),      // Overdue: counted, not responded.
  };
  const ResponseFigures f = ComputeResponseFigures(samples, ResponsePolicy{}, kNow);
  EXPECT_EQ(f.sample_size, 2u);
  EXPECT_DOUBLE_EQ(f.response_rate, 0.5);
  EXPECT_EQ(f.median_response, absl::Minutes(4));
}

TEST(ResponseFiguresTest, OnlyTheWindowCounts) {
  ResponsePolicy policy;
  policy.window = absl::Hours(24 * 7);
  const std::vector<ResponseSample> samples = {
      Lead(absl::Hours(24 * 8), absl::Minutes(1)),  // Before the window.
      Lead(absl::Hours(24 * 6), absl::Minutes(9)),
      Lead(-absl::Hours(1), absl::Minutes(1)),  // In the future: a clock step; ignored.
  };
  const ResponseFigures f = ComputeResponseFigures(samples, policy, kNow);
  EXPECT_EQ(f.sample_size, 1u);
  EXPECT_EQ(f.median_response, absl::Minutes(9));
  EXPECT_EQ(f.window_days, 7u);
}

TEST(ResponseFiguresTest, SlaBoundaryIsInclusive) {
  ResponsePolicy policy;
  policy.sla = absl::Minutes(30);
  const ResponseFigures f = ComputeResponseFigures(
      {Lead(absl::Hours(2), absl::Minutes(30)), Lead(absl::Hours(2), absl::Minutes(31))}, policy,
      kNow);
  EXPECT_DOUBLE_EQ(f.response_rate, 0.5);
}

}  // namespace
}  // namespace intake
