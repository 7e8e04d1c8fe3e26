// Store::Backup: a consistent copy of one moment while the writer keeps committing, made in a
// file that never outlives the copy; and the data key a database belongs to.
#include "server/store/backup.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/store/store.h"
#include "tests/testing/temp_dir.h"

namespace intake::store {

StoreOptions TestOptions(const Clock* clock);  // store_test.cc

namespace {

using ::intake::testing::TempDir;

Provider NewProvider(const std::string& id) {
  Provider p;
  p.provider_id = id;
  p.display_name = id;
  return p;
}

// The whole copy, written to `path`.
void WriteCopy(const BackupFile& file, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  int64_t offset = 0;
  while (true) {
    absl::StatusOr<std::string> chunk = file.Read(offset, 100000);
    ASSERT_TRUE(chunk.ok()) << chunk.status();
    if (chunk->empty()) break;
    out << *chunk;
    offset += static_cast<int64_t>(chunk->size());
  }
  ASSERT_EQ(offset, file.info().size_bytes);
}

// Files in `dir` whose names start with `prefix`'s file name.
std::vector<std::string> FilesWithPrefix(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> found;
  const std::string name = std::filesystem::path(prefix).filename().string();
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (absl::StartsWith(entry.path().filename().string(), name)) {
      found.push_back(entry.path().string());
    }
  }
  return found;
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(Db(), TestOptions(&clock_));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  std::string Db() const { return dir_.File("intake.db"); }
  absl::StatusOr<SubmitResult> Submit(const std::string& phone) {
    Submission s;
    s.phone = phone;
    s.caller_name = "Jordan";
    s.region = "FL";
    s.consent_granted = true;
    s.consent_text = "I agree.";
    absl::Notification done;
    absl::StatusOr<SubmitResult> result;
    store_->Submit(std::move(s), false, [&](absl::StatusOr<SubmitResult> r) {
      result = std::move(r);
      done.Notify();
    });
    done.WaitForNotification();
    return result;
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
};

TEST_F(BackupTest, CopyOpensAsTheSameDatabaseWithItsLeadsReadable) {
  ASSERT_TRUE(store_->CreateProvider(NewProvider("acme")).ok());
  absl::StatusOr<SubmitResult> lead = Submit("+12127365000");
  ASSERT_TRUE(lead.ok()) << lead.status();

  absl::StatusOr<std::unique_ptr<BackupFile>> backup = store_->Backup({});
  ASSERT_TRUE(backup.ok()) << backup.status();
  const BackupInfo& info = (*backup)->info();
  EXPECT_EQ(info.instance_id, store_->instance_id());
  EXPECT_EQ(info.schema_version, store_->schema_version());
  EXPECT_EQ(info.head_sequence, store_->head_sequence());
  EXPECT_EQ(info.snapshot_time, clock_.Now());
  EXPECT_EQ(info.data_key_id, TestOptions(&clock_).cipher->key_id());
  EXPECT_GT(info.size_bytes, 0);
  EXPECT_EQ(info.size_bytes % 4096, 0);
  EXPECT_TRUE(FilesWithPrefix(dir_.path(), BackupFilePrefix(Db())).empty())
      << "the copy's file is unlinked once made";

  TempDir restored;
  ASSERT_NO_FATAL_FAILURE(WriteCopy(**backup, restored.File("intake.db")));
  {
    SQLite::Database check(restored.File("intake.db"), SQLite::OPEN_READONLY);
    EXPECT_EQ(check.execAndGet("PRAGMA integrity_check").getString(), "ok");
  }
  auto copy = Store::Open(restored.File("intake.db"), TestOptions(&clock_));
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ((*copy)->instance_id(), store_->instance_id());
  EXPECT_EQ((*copy)->head_sequence(), store_->head_sequence());
  EXPECT_TRUE((*copy)->GetProvider("acme").ok());
  absl::StatusOr<Lead> read = (*copy)->GetLead(lead->lead_id, "");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->phone, "+12127365000") << "sealed data opens with the same key";
}

// The writer commits between every step of the copy (one page each); every commit returns
// while the copy is still open, and the copy holds exactly what was committed before it began.
TEST_F(BackupTest, CopyIsOneMomentWhileTheWriterGoesOnCommitting) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store_->CreateProvider(NewProvider(absl::StrCat("before-", i))).ok());
  }
  ASSERT_TRUE(Submit("+12127365000").ok());
  const uint64_t head_before = store_->head_sequence();
  int steps = 0;
  BackupOptions options;
  options.pages_per_step = 1;
  options.cancelled = [&] {
    ++steps;
    EXPECT_TRUE(store_->CreateProvider(NewProvider(absl::StrCat("during-", steps))).ok());
    EXPECT_TRUE(Submit(absl::StrCat("+1212736", 5000 + steps)).ok());
    return false;
  };
  absl::StatusOr<std::unique_ptr<BackupFile>> backup = store_->Backup(options);
  ASSERT_TRUE(backup.ok()) << backup.status();
  ASSERT_GT(steps, 5) << "the copy took several steps";
  EXPECT_EQ((*backup)->info().head_sequence, head_before);
  EXPECT_GT(store_->head_sequence(), head_before);

  TempDir restored;
  ASSERT_NO_FATAL_FAILURE(WriteCopy(**backup, restored.File("intake.db")));
  SQLite::Database check(restored.File("intake.db"), SQLite::OPEN_READONLY);
  EXPECT_EQ(check.execAndGet("PRAGMA integrity_check").getString(), "ok");
  EXPECT_EQ(
      check.execAndGet("SELECT count(*) FROM providers WHERE provider_id LIKE 'before-%'").getInt(),
      50);
  EXPECT_EQ(
      check.execAndGet("SELECT count(*) FROM providers WHERE provider_id LIKE 'during-%'").getInt(),
      0);
  EXPECT_EQ(check.execAndGet("SELECT count(*) FROM leads").getInt(), 1);
  EXPECT_EQ(check.execAndGet("SELECT max(sequence) FROM lead_events").getInt64(),
            static_cast<int64_t>(head_before));
}

TEST_F(BackupTest, OneBackupAtATime) {
  absl::Status second;
  BackupOptions options;
  options.pages_per_step = 1;
  options.cancelled = [&] {
    if (second.ok()) {
      absl::StatusOr<std::unique_ptr<BackupFile>> other = store_->Backup({});
      second = other.ok() ? absl::InternalError("a second backup ran") : other.status();
    }
    return false;
  };
  absl::StatusOr<std::unique_ptr<BackupFile>> first = store_->Backup(options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(second.code(), absl::StatusCode::kUnavailable) << second;
  EXPECT_EQ(store_->Backup({}).status().code(), absl::StatusCode::kUnavailable)
      << "the first still holds its copy";
  first->reset();
  EXPECT_TRUE(store_->Backup({}).ok()) << "the next one may run once the first has finished";
}

TEST_F(BackupTest, CancelledCopyLeavesNothingBehind) {
  BackupOptions options;
  options.pages_per_step = 1;
  options.cancelled = [] { return true; };
  EXPECT_EQ(store_->Backup(options).status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(FilesWithPrefix(dir_.path(), BackupFilePrefix(Db())).empty());
  EXPECT_TRUE(store_->Backup({}).ok());
}

TEST_F(BackupTest, CopiesLeftByACrashAreRemovedAtOpen) {
  store_.reset();
  const std::string stale = BackupFilePrefix(Db()) + "0123456789abcdef";
  std::ofstream(stale) << "half a copy";
  std::ofstream(dir_.File("unrelated.txt")) << "kept";
  ASSERT_TRUE(Store::Open(Db(), TestOptions(&clock_)).ok());
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_TRUE(std::filesystem::exists(dir_.File("unrelated.txt")));
}

TEST_F(BackupTest, DatabaseRefusesADataKeyOtherThanItsOwn) {
  store_.reset();
  const std::unique_ptr<PiiCipher> other = *PiiCipher::FromKeyHex(PiiCipher::NewKeyHex());
  StoreOptions options = TestOptions(&clock_);
  options.cipher = other.get();
  absl::StatusOr<std::unique_ptr<Store>> refused = Store::Open(Db(), options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "data.key")) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), TestOptions(&clock_).cipher->key_id()));
  EXPECT_TRUE(Store::Open(Db(), TestOptions(&clock_)).ok()) << "its own key still opens it";
}

TEST_F(BackupTest, DatabaseFromBeforeKeyIdsAdoptsTheKeyItIsOpenedWith) {
  store_.reset();
  {
    SQLite::Database db(Db(), SQLite::OPEN_READWRITE);
    db.exec("UPDATE instance SET data_key_id = NULL");
  }
  ASSERT_TRUE(Store::Open(Db(), TestOptions(&clock_)).ok());
  SQLite::Database db(Db(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT data_key_id FROM instance").getString(),
            TestOptions(&clock_).cipher->key_id());
}

}  // namespace
}  // namespace intake::store
