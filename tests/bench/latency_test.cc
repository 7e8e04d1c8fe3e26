#include "client/bench/latency.h"

#include "gtest/gtest.h"

namespace intake::bench {
namespace {

TEST(LatencySamplesTest, PercentilesAreNearestRank) {
  LatencySamples samples;
  EXPECT_EQ(samples.Percentile(0.5), std::nullopt);
  for (int ms = 100; ms >= 1; --ms) samples.Record(absl::Milliseconds(ms));
  EXPECT_EQ(samples.Percentile(0.0), absl::Milliseconds(1));
  EXPECT_EQ(samples.Percentile(0.5), absl::Milliseconds(50));
  EXPECT_EQ(samples.Percentile(0.99), absl::Milliseconds(99));
  EXPECT_EQ(samples.Percentile(1.0), absl::Milliseconds(100));
  EXPECT_EQ(samples.Percentile(7.0), absl::Milliseconds(100)) << "q is clamped";
}

TEST(LatencySamplesTest, MergeKeepsEverySampleAndNegativesCountAsZero) {
  LatencySamples a;
  LatencySamples b;
  a.Record(absl::Milliseconds(3));
  b.Record(-absl::Milliseconds(1));
  b.Record(absl::Milliseconds(2));
  ASSERT_EQ(a.Percentile(1.0), absl::Milliseconds(3));  // Sorted before the merge.
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.Percentile(0.0), absl::ZeroDuration());
  EXPECT_EQ(a.Percentile(0.5), absl::Milliseconds(2));
}

}  // namespace
}  // namespace intake::bench
