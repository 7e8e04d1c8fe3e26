#include "server/api/process_stats.h"

#include "gtest/gtest.h"

namespace intake::api {
namespace {

// A real line of /proc/<pid>/stat, its command name holding a space and parentheses.
constexpr char kStat[] =
    "4242 (intaked (x) y) S 1 4242 4242 0 -1 4194560 2000 0 0 0 250 150 0 0 20 0 9 0 "
    "123400 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 1024 0 0 0 17 1 0 0 0 0 0";

TEST(ProcessStatsTest, ParsesTimesAndMemoryFromProcStat) {
  absl::StatusOr<ProcessStats> stats =
      ParseProcStat(kStat, /*ticks_per_second=*/100, /*page_bytes=*/4096,
                    /*boot_time_seconds=*/1'700'000'000);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_DOUBLE_EQ(stats->cpu_seconds, 4.0);  // (250 + 150) ticks.
  EXPECT_DOUBLE_EQ(stats->start_time_seconds, 1'700'000'000 + 1234.0);
  EXPECT_EQ(stats->virtual_bytes, 104857600);
  EXPECT_EQ(stats->resident_bytes, 2560 * 4096);
}

TEST(ProcessStatsTest, RefusesWhatIsNotAStatLine) {
  EXPECT_FALSE(ParseProcStat("", 100, 4096, 0).ok());
  EXPECT_FALSE(ParseProcStat("4242 (intaked) S 1 2 3", 100, 4096, 0).ok());
  EXPECT_FALSE(ParseProcStat(kStat, 0, 4096, 0).ok());
}

TEST(ProcessStatsTest, ReadsThisProcess) {
  absl::StatusOr<ProcessStats> stats = ReadProcessStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_GT(stats->resident_bytes, 0);
  EXPECT_GT(stats->open_fds, 2);
  EXPECT_GE(stats->max_fds, stats->open_fds);
  EXPECT_GT(stats->start_time_seconds, 1.6e9);
}

}  // namespace
}  // namespace intake::api
