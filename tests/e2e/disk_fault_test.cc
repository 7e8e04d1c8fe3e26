// The disk under a running intaked fails: it fills up, turns read-only, or loses its database
// file. Each time submissions get UNAVAILABLE (never an OK for a lead that is not safely
// stored), the log says what is wrong, and nothing acknowledged is lost.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/database.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/submission_load.h"
#include "tests/testing/scratch_filesystem.h"
#include "tests/testing/temp_dir.h"

namespace intake::testing {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr int kLanes = 4;
constexpr absl::Duration kPatience = absl::Seconds(60);

// Writes zeros to `path` until the filesystem is full, then gives `room` bytes back.
void FillAllBut(const std::string& path, uintmax_t room) {
  {
    std::ofstream out(path, std::ios::binary);
    const std::string chunk(1 << 20, '\0');
    while (out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()))) {
    }
  }
  const uintmax_t size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size > room ? size - room : 0);
}

void Merge(const Acknowledged& more, Acknowledged* all) { all->insert(more.begin(), more.end()); }

TEST(DiskFaultTest, AFullDiskGetsUnavailableLosesNothingAndIntakeResumesOnceThereIsRoom) {
  std::string why_not;
  auto disk = ScratchFilesystem::Create(ScratchFilesystem::Kind::kTmpfs, 32 << 20, &why_not);
  if (disk == nullptr) GTEST_SKIP() << why_not;
  const std::string data_dir = disk->path() + "/var";
  auto server = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(server, nullptr);
  const std::string ballast = disk->path() + "/ballast";
  FillAllBut(ballast, 1 << 20);

  Acknowledged acknowledged;
  {
    SubmissionLoad load(server->listen_address(), kLanes, "diskfull00000000");
    EXPECT_TRUE(load.WaitForCode(grpc::StatusCode::UNAVAILABLE, 50, kPatience))
        << "the disk never filled up; acknowledged " << load.acknowledged().size();
    load.Stop();
    // Nothing but UNAVAILABLE: the code that tells a client to retry with its request_id.
    EXPECT_THAT(load.failures(), UnorderedElementsAre(Pair(grpc::StatusCode::UNAVAILABLE, _)));
    acknowledged = load.acknowledged();
  }
  EXPECT_GT(acknowledged.size(), 0u);
  EXPECT_THAT(server->Stderr(), HasSubstr("No space left on device"));
  ExpectIntactWithEveryAcknowledged(data_dir + "/intake.db", acknowledged);

  // Room again: intake resumes by itself, no restart.
  std::filesystem::remove(ballast);
  {
    SubmissionLoad load(server->listen_address(), kLanes, "diskroom00000000");
    EXPECT_TRUE(load.WaitForAcknowledged(200, kPatience));
    load.Stop();
    EXPECT_THAT(load.failures(), IsEmpty());
    Merge(load.acknowledged(), &acknowledged);
  }
  EXPECT_THAT(server->Stderr(), HasSubstr("commits succeed again"));

  server->Stop(SIGTERM);
  server = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(server, nullptr);
  ExpectIntactWithEveryAcknowledged(data_dir + "/intake.db", acknowledged);
}

TEST(DiskFaultTest, ADataDirTurnedReadOnlyGetsAClearErrorAndLosesNothing) {
  std::string why_not;
  auto disk = ScratchFilesystem::Create(ScratchFilesystem::Kind::kExt4, 64 << 20, &why_not);
  if (disk == nullptr) GTEST_SKIP() << why_not;
  const std::string data_dir = disk->path() + "/var";
  auto server = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(server, nullptr);

  Acknowledged acknowledged;
  {
    SubmissionLoad load(server->listen_address(), kLanes, "readonly00000000");
    ASSERT_TRUE(load.WaitForAcknowledged(200, kPatience));
    // The kernel remounts the filesystem read-only, as after a disk error.
    ASSERT_TRUE(disk->TriggerError());
    EXPECT_TRUE(load.WaitForCode(grpc::StatusCode::UNAVAILABLE, 50, kPatience));
    load.Stop();
    EXPECT_THAT(load.failures(), UnorderedElementsAre(Pair(grpc::StatusCode::UNAVAILABLE, _)));
    acknowledged = load.acknowledged();
  }
  EXPECT_THAT(server->Stderr(), HasSubstr("Read-only file system"));

  // The operator stops intaked, repairs the filesystem and starts it again.
  server->Stop(SIGTERM);
  ASSERT_TRUE(disk->Remount());
  server = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(server, nullptr);
  ExpectIntactWithEveryAcknowledged(data_dir + "/intake.db", acknowledged);
}

// The copy intaked saved when its database file was deleted or replaced.
std::string RescuedCopy(const std::string& data_dir) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir)) {
    if (entry.path().filename().string().rfind("intake.db.rescued-", 0) == 0) {
      found.push_back(entry.path().string());
    }
  }
  EXPECT_EQ(found.size(), 1u) << "rescued copies in " << data_dir;
  return found.empty() ? "" : found[0];
}

// Runs load, does `fault` once some leads are acknowledged, and returns what was acknowledged
// once the server refuses.
Acknowledged AcknowledgedAround(IntakedProcess& server, const std::string& run_tag,
                                const std::function<void()>& fault) {
  SubmissionLoad load(server.listen_address(), kLanes, run_tag);
  EXPECT_TRUE(load.WaitForAcknowledged(200, kPatience));
  fault();
  EXPECT_TRUE(load.WaitForCode(grpc::StatusCode::UNAVAILABLE, 50, kPatience));
  load.Stop();
  EXPECT_THAT(load.failures(), UnorderedElementsAre(Pair(grpc::StatusCode::UNAVAILABLE, _)));
  return load.acknowledged();
}

TEST(DiskFaultTest, ADeletedDatabaseFileStopsAcknowledgingAndEverythingIsRescued) {
  TempDir dir;
  const std::string data_dir = dir.File("var");
  const std::string db = data_dir + "/intake.db";
  auto server = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(server, nullptr);

  const Acknowledged acknowledged =
      AcknowledgedAround(*server, "deleted000000000", [&] { std::filesystem::remove(db); });
  EXPECT_THAT(server->Stderr(), HasSubstr("was deleted or replaced while intaked was running"));
  const std::string rescued = RescuedCopy(data_dir);
  server->Stop(SIGTERM);
  ExpectIntactWithEveryAcknowledged(rescued, acknowledged);

  // Put back, as the log says, it is the database again.
  std::filesystem::remove(db + "-wal");
  std::filesystem::remove(db + "-shm");
  std::filesystem::rename(rescued, db);
  server = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(server, nullptr);
  ExpectIntactWithEveryAcknowledged(db, acknowledged);
}

TEST(DiskFaultTest, AReplacedDatabaseFileIsLeftAloneAndEverythingIsRescued) {
  TempDir dir;
  const std::string data_dir = dir.File("var");
  const std::string db = data_dir + "/intake.db";
  auto server = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(server, nullptr);

  // An older copy (a backup) moved over the live file, as a careless restore would.
  const std::string backup = dir.File("backup.db");
  int64_t backed_up = -1;
  const Acknowledged acknowledged = AcknowledgedAround(*server, "replaced00000000", [&] {
    ASSERT_TRUE(CopyDatabase(db, backup));
    backed_up = QueryInt(backup, "SELECT count(*) FROM submissions");
    std::filesystem::rename(backup, db);
  });
  EXPECT_THAT(server->Stderr(), HasSubstr("was deleted or replaced while intaked was running"));
  const std::string rescued = RescuedCopy(data_dir);
  server->Stop(SIGTERM);
  ExpectIntactWithEveryAcknowledged(rescued, acknowledged);
  // Nothing was written into the file that took its place.
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM submissions"), backed_up);
}

}  // namespace
}  // namespace intake::testing
