#include "client/bench/soak.h"

#include <vector>

#include "gtest/gtest.h"

namespace intake::bench {
namespace {

TEST(SoakVerdictTest, AFlatSeriesWithNoiseIsFlat) {
  EXPECT_TRUE(IsFlat({100, 103, 98, 101, 99, 102, 100, 101, 99, 100}, 0.10));
}

TEST(SoakVerdictTest, ASeriesThatKeepsGrowingInItsSecondHalfIsNot) {
  // Grows 4 per sample: +16 over the second half, on a median of 128.
  std::vector<double> growing;
  growing.reserve(10);
  for (int i = 0; i < 10; ++i) growing.push_back(100 + 4 * i);
  EXPECT_FALSE(IsFlat(growing, 0.10));
  EXPECT_TRUE(IsFlat(growing, 0.50));
}

TEST(SoakVerdictTest, AWarmUpInTheFirstHalfDoesNotCount) {
  EXPECT_TRUE(IsFlat({10, 40, 80, 100, 100, 101, 100, 100}, 0.05));
}

TEST(SoakVerdictTest, AnAbsoluteAllowanceCoversSmallSeries) {
  EXPECT_FALSE(IsFlat({20, 20, 20, 20, 21, 22, 23, 24}, 0));
  EXPECT_TRUE(IsFlat({20, 20, 20, 20, 20, 21, 21, 21}, 0, 2));
}

TEST(SoakVerdictTest, TooFewSamplesAreFlat) { EXPECT_TRUE(IsFlat({1, 50, 100}, 0)); }

}  // namespace
}  // namespace intake::bench
