// intake-bench --mode=delivery end to end, briefly: where the spawned intaked's data directory
// goes (--data_dir_parent), and the figures the report derives from its phases.
#include <filesystem>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/bench_run.h"
#include "tests/testing/temp_dir.h"

namespace intake::testing {
namespace {

constexpr char kShortRun[] =
    "--mode=delivery --warmup=0s --duration=1s --rate=100 --concurrency=4 --channels=2";

TEST(BenchDeliveryTest, DataDirectoryGoesWhereToldAndReportsItsFileSystem) {
  TempDir dir;
  const std::string parent = dir.File("data-parent");
  std::filesystem::create_directory(parent);
  const BenchRun run = RunBench(dir, absl::StrCat(kShortRun, " --data_dir_parent=", parent));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Field(run.out, "\"delivery\"", "lost"), "0") << run.out;

  // The floor ran in the spawned intaked's data directory, made in the parent given.
  const std::optional<std::string> data_dir = Field(run.out, "\"disk_floor\"", "dir");
  ASSERT_TRUE(data_dir.has_value()) << run.out;
  EXPECT_EQ(std::filesystem::path(*data_dir).parent_path(), parent) << run.out;
  EXPECT_FALSE(std::filesystem::exists(*data_dir)) << "the data directory was left behind";
  EXPECT_TRUE(std::filesystem::is_empty(parent));

  // The file system is named, the same for the server's data and the floor's directory.
  const std::optional<std::string> fs = Field(run.out, "\"server\"", "data_dir_fs");
  ASSERT_TRUE(fs.has_value()) << run.out;
  EXPECT_FALSE(fs->empty());
  EXPECT_EQ(Field(run.out, "\"disk_floor\"", "fs"), fs);
}

TEST(BenchDeliveryTest, ReportsDeliveryP99OverTheFloorsP99) {
  TempDir dir;
  const BenchRun run = RunBench(dir, kShortRun);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const double delivery_p99 = Number(Field(run.out, "\"delivery\"", "p99_ms"));
  const double floor_p99 = Number(Field(run.out, "\"disk_floor\"", "p99_ms"));
  const double over = Number(Field(run.out, "\"delivery\"", "p99_minus_floor_p99_ms"));
  // Each figure is rounded to a microsecond on its own.
  EXPECT_NEAR(over, delivery_p99 - floor_p99, 0.0021) << run.out;
}

TEST(BenchDeliveryTest, AMissingDataDirParentIsNamed) {
  TempDir dir;
  const BenchRun run =
      RunBench(dir, absl::StrCat(kShortRun, " --data_dir_parent=", dir.File("missing")));
  EXPECT_EQ(run.exit_code, 1);  // Could not start the server.
  EXPECT_TRUE(absl::StrContains(run.err, dir.File("missing"))) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
}

}  // namespace
}  // namespace intake::testing
