#include "client/bench/soak.h"

#include <string>
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

TEST(SoakVerdictTest, SecondHalfGrowthIsTheTrendAcrossTheSecondHalf) {
  EXPECT_DOUBLE_EQ(SecondHalfGrowth({0, 0, 0, 0, 10, 12, 14, 16}), 6);
  EXPECT_DOUBLE_EQ(SecondHalfGrowth({5}), 0);
}

TEST(SoakVerdictTest, OneSpikeDoesNotMakeATrend) {
  // Latency spikes once, at the very end (the machine's other tenant compiling): not a climb.
  const std::vector<double> spiky = {8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 50};
  EXPECT_TRUE(IsFlat(spiky, 0.25));
  // The same spike on a steady climb is still a climb.
  const std::vector<double> climbing = {8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 50};
  EXPECT_FALSE(IsFlat(climbing, 0.25));
}

// A steady run: `rate` submissions per second over one-minute samples, every dashboard
// receiving each lead, memory and latency flat after a warm-up.
std::vector<SoakSample> SteadyRun(int rate, int subscribers, int minutes) {
  std::vector<SoakSample> samples;
  for (int i = 1; i <= minutes; ++i) {
    SoakSample s;
    s.minute = i;
    s.anon_mib = i == 1 ? 40 : 80 + (i % 2);
    s.fds = 31;
    s.wal_mib = 4;
    s.submits = 60.0 * rate;
    s.events = s.submits * subscribers;
    s.p99_ms = 2 + 0.1 * (i % 3);
    samples.push_back(s);
  }
  return samples;
}

bool Passes(const std::vector<SoakCheck>& checks, const std::string& name) {
  for (const SoakCheck& check : checks) {
    if (check.name == name) return check.pass;
  }
  ADD_FAILURE() << "no check named " << name;
  return false;
}

bool AllPass(const std::vector<SoakCheck>& checks) {
  for (const SoakCheck& check : checks) {
    if (!check.pass) return false;
  }
  return true;
}

TEST(JudgeSoakTest, ASteadyRunIsFlat) {
  const std::vector<SoakCheck> checks = JudgeSoak(SteadyRun(100, 8, 10), 100, 8);
  for (const SoakCheck& check : checks) {
    EXPECT_TRUE(check.pass) << check.name << ": " << check.detail;
  }
}

TEST(JudgeSoakTest, TooShortARunIsNeverFlat) {
  const std::vector<SoakCheck> checks = JudgeSoak(SteadyRun(100, 8, 3), 100, 8);
  EXPECT_FALSE(Passes(checks, "samples"));
  EXPECT_FALSE(AllPass(JudgeSoak({}, 100, 8)));
}

TEST(JudgeSoakTest, AServerThatFallsBehindOrFailsCallsIsNotFlat) {
  std::vector<SoakSample> behind = SteadyRun(100, 8, 10);
  for (size_t i = 5; i < behind.size(); ++i) behind[i].submits = 60.0 * 80;
  EXPECT_FALSE(Passes(JudgeSoak(behind, 100, 8), "load"));

  std::vector<SoakSample> failing = SteadyRun(100, 8, 10);
  failing[1].errors = 1;
  EXPECT_FALSE(Passes(JudgeSoak(failing, 100, 8), "load"));
}

TEST(JudgeSoakTest, DashboardsThatStarveAreNotFlat) {
  std::vector<SoakSample> starving = SteadyRun(100, 8, 10);
  for (SoakSample& s : starving) s.events = s.submits * 4;
  EXPECT_FALSE(Passes(JudgeSoak(starving, 100, 8), "delivery"));
}

TEST(JudgeSoakTest, AHeapThatKeepsGrowingIsNotFlat) {
  std::vector<SoakSample> leaking = SteadyRun(100, 8, 10);
  for (size_t i = 0; i < leaking.size(); ++i) {
    leaking[i].anon_mib = 80 + 3.0 * static_cast<double>(i);
  }
  const std::vector<SoakCheck> checks = JudgeSoak(leaking, 100, 8);
  EXPECT_FALSE(Passes(checks, "anon_rss"));
  EXPECT_TRUE(Passes(checks, "fds"));
}

TEST(JudgeSoakTest, LatencyThatSteppedUpSinceTheStartIsNotFlat) {
  // Flat within each half, but the second half's p99 is four times the first's.
  std::vector<SoakSample> slower = SteadyRun(100, 8, 10);
  for (size_t i = 5; i < slower.size(); ++i) slower[i].p99_ms = 8;
  EXPECT_FALSE(Passes(JudgeSoak(slower, 100, 8), "p99"));
}

}  // namespace
}  // namespace intake::bench
