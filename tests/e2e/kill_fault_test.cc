// SIGKILL at the worst moments, twenty times over one database: while the writer copies the
// WAL into the database file (a checkpoint), and while large batches are being committed.
// After every restart, every acknowledged submission is stored exactly once and
// PRAGMA integrity_check passes.
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/submission_load.h"
#include "tests/testing/temp_dir.h"

namespace intake::testing {
namespace {

constexpr int kRounds = 20;
// Enough concurrent callers that the writer's batches hold dozens of submissions.
constexpr int kLanes = 96;
constexpr absl::Duration kPatience = absl::Seconds(60);

// Waits until the file at `path` is written to; false at `timeout`. In WAL mode only a
// checkpoint writes to the database file, so this returns as one begins.
bool WaitForWrite(const std::string& path, absl::Duration timeout) {
  const int fd = inotify_init1(IN_CLOEXEC);
  if (fd < 0) return false;
  bool written = false;
  if (inotify_add_watch(fd, path.c_str(), IN_MODIFY) >= 0) {
    pollfd ready{fd, POLLIN, 0};
    written = poll(&ready, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) == 1;
  }
  close(fd);
  return written;
}

// A fresh run tag per round, so request_ids never repeat across rounds.
std::string RunTag(int round) { return absl::StrFormat("kill%012d", round); }

TEST(KillFaultTest, TwentySigkillsMidCheckpointAndMidBatchLoseNoAcknowledgedLead) {
  // tmpfs when there is one: a SIGKILL leaves the page cache as it was, so what survives is
  // the same as on a disk, and rounds take a fraction of the time.
  TempDir dir(std::filesystem::is_directory("/dev/shm")
                  ? "/dev/shm"
                  : std::filesystem::temp_directory_path().string());
  const std::string data_dir = dir.File("var");
  const std::string db = data_dir + "/intake.db";
  Acknowledged acknowledged;
  int checkpoint_kills = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrFormat("round %d", round));
    auto server = IntakedProcess::Start({}, data_dir);
    ASSERT_NE(server, nullptr);
    if (round > 0) ExpectIntactWithEveryAcknowledged(db, acknowledged);
    {
      SubmissionLoad load(server->listen_address(), kLanes, RunTag(round));
      ASSERT_TRUE(load.WaitForAcknowledged(200, kPatience));
      if (round % 2 == 0) {
        // Mid-checkpoint: the writer checkpoints once the WAL holds 1000 frames.
        const bool checkpointing = WaitForWrite(db, kPatience);
        EXPECT_TRUE(checkpointing) << "no checkpoint began within " << kPatience;
        checkpoint_kills += checkpointing;
      }
      // Otherwise mid-batch: with this many callers a batch is always being committed.
      server->Stop(SIGKILL);
      load.Stop();
      const Acknowledged more = load.acknowledged();
      acknowledged.insert(more.begin(), more.end());
    }
  }
  auto server = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(server, nullptr);
  ExpectIntactWithEveryAcknowledged(db, acknowledged);
  EXPECT_EQ(checkpoint_kills, kRounds / 2);
  RecordProperty("acknowledged", static_cast<int>(acknowledged.size()));
}

}  // namespace
}  // namespace intake::testing
