#include "client/bench/disk_floor.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace intake::bench {
namespace {

using ::intake::testing::TempDir;

DiskFloorOptions ShortRun(const std::string& directory) {
  DiskFloorOptions options;
  options.directory = directory;
  options.rate = 1000;
  options.warmup = absl::Milliseconds(50);
  options.duration = absl::Milliseconds(200);
  options.commit_bytes = 4096;
  return options;
}

TEST(DiskFloorTest, EveryMeasuredLeadIsCommittedAndTheScratchFileIsRemoved) {
  TempDir dir;
  absl::StatusOr<DiskFloorResult> floor = MeasureDiskFloor(ShortRun(dir.path()));
  ASSERT_TRUE(floor.ok()) << floor.status();
  // Leads 50..249 of the schedule arrive in the measured 200 ms.
  EXPECT_EQ(floor->lead_latencies.count(), 200u);
  EXPECT_GE(floor->fdatasync_latencies.count(), 1u);
  EXPECT_LE(floor->fdatasync_latencies.count(), 200u) << "one fdatasync per group at most";
  EXPECT_LE(*floor->fdatasync_latencies.Percentile(1.0), *floor->lead_latencies.Percentile(1.0))
      << "a lead waits at least for the fdatasync that makes it durable";
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(DiskFloorTest, AMissingDirectoryIsNotFoundAndNamed) {
  TempDir dir;
  const std::string missing = dir.File("missing");
  absl::StatusOr<DiskFloorResult> floor = MeasureDiskFloor(ShortRun(missing));
  EXPECT_EQ(floor.status().code(), absl::StatusCode::kNotFound) << floor.status();
  EXPECT_NE(floor.status().message().find(missing), std::string::npos) << floor.status();
}

TEST(DiskFloorTest, OptionsOutOfRangeAreInvalidArguments) {
  TempDir dir;
  for (auto broken : {+[](DiskFloorOptions& o) { o.rate = 0; },
                      +[](DiskFloorOptions& o) { o.duration = absl::ZeroDuration(); },
                      +[](DiskFloorOptions& o) { o.warmup = -absl::Seconds(1); },
                      +[](DiskFloorOptions& o) { o.commit_bytes = 0; },
                      +[](DiskFloorOptions& o) { o.commit_bytes = kDiskFloorFileBytes + 1; }}) {
    DiskFloorOptions options = ShortRun(dir.path());
    broken(options);
    EXPECT_EQ(MeasureDiskFloor(options).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "nothing created for refused options";
}

}  // namespace
}  // namespace intake::bench
