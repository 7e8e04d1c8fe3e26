#include "server/domain/clock.h"

#include "gtest/gtest.h"

namespace intake {
namespace {

TEST(FakeClockTest, MovesOnlyWhenTold) {
  const absl::Time start = absl::FromUnixSeconds(1'000'000);
  FakeClock clock(start);
  EXPECT_EQ(clock.Now(), start);
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(absl::Minutes(90));
  EXPECT_EQ(clock.Now(), start + absl::Minutes(90));
  clock.Set(start - absl::Hours(1));
  EXPECT_EQ(clock.Now(), start - absl::Hours(1));
}

TEST(SystemClockTest, IsMonotonicEnoughToOrderTwoReads) {
  const Clock& clock = SystemClock::Get();
  const absl::Time first = clock.Now();
  EXPECT_LE(first, clock.Now());
  EXPECT_GT(first, absl::FromUnixSeconds(1'700'000'000));  // Not the epoch: a real clock.
}

}  // namespace
}  // namespace intake
