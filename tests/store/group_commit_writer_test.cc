#include "server/store/group_commit_writer.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "SQLiteCpp/Statement.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/store/connection.h"
#include "tests/testing/temp_dir.h"

namespace intake::store {
namespace {

using ::intake::testing::TempDir;

// A write of one row into t (created by NewDatabase).
GroupCommitWriter::Apply Insert(std::string key) {
  return [key = std::move(key)](SQLite::Database& db) {
    SQLite::Statement insert(db, "INSERT INTO t (k, v) VALUES (?, 1)");
    insert.bind(1, key);
    insert.exec();
    return absl::OkStatus();
  };
}

// The writer connection of a new database at `path` holding the empty table t.
std::unique_ptr<SQLite::Database> NewDatabase(const std::string& path) {
  auto db = OpenConnection(path, ConnectionRole::kWriter);
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return nullptr;
  (*db)->exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
  return *std::move(db);
}

class GroupCommitWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::unique_ptr<SQLite::Database> db = NewDatabase(dir_.File("intake.db"));
    ASSERT_NE(db, nullptr);
    writer_ = std::make_unique<GroupCommitWriter>(
        std::move(db),
        GroupCommitWriter::Options{.max_batch = 512,
                                   .after_commit = [this](SQLite::Database&) { ++commits_; }});
  }

  int64_t Count() {
    auto reader = OpenConnection(dir_.File("intake.db"), ConnectionRole::kReader);
    EXPECT_TRUE(reader.ok());
    return (*reader)->execAndGet("SELECT count(*) FROM t").getInt64();
  }

  TempDir dir_;
  std::atomic<int> commits_{0};
  std::unique_ptr<GroupCommitWriter> writer_;
};

TEST_F(GroupCommitWriterTest, RunReturnsOnlyOnceTheWriteIsCommitted) {
  EXPECT_TRUE(writer_->Run(Insert("a")).ok());
  EXPECT_EQ(Count(), 1) << "another connection sees the write as soon as Run returns";
  EXPECT_EQ(commits_.load(), 1);
}

TEST_F(GroupCommitWriterTest, AFailingWriteIsUndoneAloneAndReportsItsOwnStatus) {
  ASSERT_TRUE(writer_->Run(Insert("dup")).ok());
  // Three writes in one batch: the middle one half-writes, then fails.
  absl::Notification hold;
  writer_->Submit(
      [&](SQLite::Database&) {
        hold.WaitForNotification();
        return absl::OkStatus();
      },
      [](const absl::Status&) {});
  std::vector<absl::Status> results(3);
  absl::Notification done[3];
  writer_->Submit(Insert("x"), [&](const absl::Status& s) {
    results[0] = s;
    done[0].Notify();
  });
  writer_->Submit(
      [](SQLite::Database& db) {
        db.exec("INSERT INTO t (k, v) VALUES ('half', 1)");
        return absl::FailedPreconditionError("refused after writing");
      },
      [&](const absl::Status& s) {
        results[1] = s;
        done[1].Notify();
      });
  writer_->Submit(Insert("dup"), [&](const absl::Status& s) {  // Primary key violation.
    results[2] = s;
    done[2].Notify();
  });
  hold.Notify();
  for (auto& d : done) d.WaitForNotification();
  EXPECT_TRUE(results[0].ok()) << results[0];
  EXPECT_EQ(results[1].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(results[2].code(), absl::StatusCode::kInternal) << results[2];
  EXPECT_EQ(Count(), 2) << "dup and x stored; nothing of the refused writes";
}

TEST_F(GroupCommitWriterTest, ConcurrentWritesShareCommits) {
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_TRUE(writer_->Run(Insert(std::to_string(t) + "-" + std::to_string(i))).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Count(), kThreads * kPerThread);
  // Each thread waits for its own commit, so batches hold up to kThreads writes; with
  // group commit there are fewer commits than writes.
  EXPECT_LT(commits_.load(), kThreads * kPerThread);
}

TEST_F(GroupCommitWriterTest, TheNextBatchIsAppliedWhileTheLastOnesCallersHearBack) {
  absl::Notification second_applied;
  absl::Notification first_heard;
  bool second_applied_before_first_heard = false;
  writer_->Submit(Insert("first"), [&](const absl::Status& s) {
    EXPECT_TRUE(s.ok()) << s;
    // A slow reply: the writer must not wait for it to start on the next write.
    second_applied_before_first_heard =
        second_applied.WaitForNotificationWithTimeout(absl::Seconds(10));
    first_heard.Notify();
  });
  // Submitted once the first has committed, so that it makes a batch of its own.
  while (commits_.load() == 0) absl::SleepFor(absl::Milliseconds(1));
  writer_->Submit(
      [&](SQLite::Database&) {
        second_applied.Notify();
        return absl::OkStatus();
      },
      [](const absl::Status&) {});
  first_heard.WaitForNotification();
  EXPECT_TRUE(second_applied_before_first_heard);
}

TEST_F(GroupCommitWriterTest, CallersHearBackInTheOrderOfTheirWrites) {
  constexpr int kThreads = 8, kPerThread = 100;
  absl::Mutex mu;
  std::vector<int> applied, heard;
  absl::BlockingCounter all_heard(kThreads * kPerThread);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int id = t * kPerThread + i;
        writer_->Submit(
            [&, id](SQLite::Database&) {
              absl::MutexLock lock(&mu);
              applied.push_back(id);
              return absl::OkStatus();
            },
            [&, id](const absl::Status& s) {
              EXPECT_TRUE(s.ok()) << s;
              {
                absl::MutexLock lock(&mu);
                heard.push_back(id);
              }
              all_heard.DecrementCount();
            });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  all_heard.Wait();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(heard, applied);
}

TEST_F(GroupCommitWriterTest, DestructorFinishesEverySubmittedWrite) {
  std::atomic<int> finished{0};
  for (int i = 0; i < 100; ++i) {
    writer_->Submit(Insert("k" + std::to_string(i)), [&](const absl::Status& s) {
      EXPECT_TRUE(s.ok());
      ++finished;
    });
  }
  writer_.reset();
  EXPECT_EQ(finished.load(), 100);
  EXPECT_EQ(Count(), 100);
}

TEST_F(GroupCommitWriterTest, FailedCommitFailsTheWholeBatchAndStoresNothing) {
  // Rolling the transaction back from inside a write simulates SQLite abandoning it (as it
  // does on I/O errors and a full disk): every write of the batch must hear UNAVAILABLE.
  absl::Notification hold;
  writer_->Submit(
      [&](SQLite::Database&) {
        hold.WaitForNotification();
        return absl::OkStatus();
      },
      [](const absl::Status&) {});
  absl::Status first, second;
  absl::Notification first_done, second_done;
  writer_->Submit(Insert("lost"), [&](const absl::Status& s) {
    first = s;
    first_done.Notify();
  });
  writer_->Submit(
      [](SQLite::Database& db) {
        db.exec("ROLLBACK");
        return absl::OkStatus();
      },
      [&](const absl::Status& s) {
        second = s;
        second_done.Notify();
      });
  hold.Notify();
  first_done.WaitForNotification();
  second_done.WaitForNotification();
  EXPECT_EQ(first.code(), absl::StatusCode::kUnavailable) << first;
  EXPECT_EQ(second.code(), absl::StatusCode::kUnavailable) << second;
  EXPECT_EQ(Count(), 0);
  EXPECT_TRUE(writer_->Run(Insert("after")).ok()) << "the writer recovers for the next batch";
  EXPECT_EQ(Count(), 1);
}

TEST_F(GroupCommitWriterTest, ALazyWriteAloneCommitsOnceItsDelayHasPassed) {
  absl::Notification done;
  absl::Status status = absl::UnknownError("not yet");
  const absl::Time queued = absl::Now();
  writer_->SubmitLazy(
      Insert("lazy"),
      [&](absl::Status s) {
        status = std::move(s);
        done.Notify();
      },
      absl::Milliseconds(200));
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_GE(absl::Now() - queued, absl::Milliseconds(200)) << "it waited for company first";
  EXPECT_EQ(Count(), 1);
  EXPECT_EQ(commits_.load(), 1);
}

TEST_F(GroupCommitWriterTest, ALazyWriteRidesInTheNextBatchWithoutACommitOfItsOwn) {
  absl::Notification lazy_done;
  writer_->SubmitLazy(
      Insert("lazy"),
      [&](const absl::Status& s) {
        EXPECT_TRUE(s.ok()) << s;
        lazy_done.Notify();
      },
      absl::Hours(1));
  ASSERT_TRUE(writer_->Run(Insert("eager")).ok());
  ASSERT_TRUE(lazy_done.WaitForNotificationWithTimeout(absl::Seconds(30)))
      << "committed with the eager write, long before its hour";
  EXPECT_EQ(Count(), 2);
  EXPECT_EQ(commits_.load(), 1) << "one transaction for both";
}

TEST_F(GroupCommitWriterTest, DestructorCommitsLazyWritesToo) {
  bool committed = false;
  writer_->SubmitLazy(
      Insert("lazy"), [&](const absl::Status& s) { committed = s.ok(); }, absl::Hours(1));
  writer_.reset();
  EXPECT_TRUE(committed);
  EXPECT_EQ(Count(), 1);
}

TEST(GroupCommitWriterQueueTest, WritesPastMaxPendingAreRefusedAtOnceAndTheRestCommit) {
  TempDir dir;
  std::unique_ptr<SQLite::Database> db = NewDatabase(dir.File("intake.db"));
  ASSERT_NE(db, nullptr);
  GroupCommitWriter::Options options;
  options.max_pending = 3;
  GroupCommitWriter writer(std::move(db), std::move(options));
  absl::Notification hold;
  absl::Notification holding;
  writer.Submit(
      [&](SQLite::Database&) {
        holding.Notify();
        hold.WaitForNotification();
        return absl::OkStatus();
      },
      [](const absl::Status&) {});
  holding.WaitForNotification();  // The writer is busy; what follows waits.
  std::atomic<int> ok{0};
  absl::BlockingCounter queued_done(3);
  for (int i = 0; i < 3; ++i) {
    writer.Submit(Insert(std::to_string(i)), [&](const absl::Status& s) {
      ok += s.ok();
      queued_done.DecrementCount();
    });
  }
  absl::Status refused;
  writer.Submit(Insert("one too many"), [&](const absl::Status& s) { refused = s; });
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << "refused before the writer frees";
  hold.Notify();
  queued_done.Wait();
  EXPECT_EQ(ok.load(), 3) << "the writes it queued all commit";
  const absl::Status later = writer.Run(Insert("later"));
  EXPECT_TRUE(later.ok()) << "room again once the queue drains: " << later;
}

TEST_F(GroupCommitWriterTest, ADatabaseFileDeletedUnderTheWriterRefusesEveryWriteAndIsRescued) {
  ASSERT_TRUE(writer_->Run(Insert("before")).ok());
  std::filesystem::remove(dir_.File("intake.db"));
  // The commit lands in a file no one will find again: not OK, and nor is any later write.
  EXPECT_EQ(writer_->Run(Insert("into-the-void")).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(writer_->Run(Insert("later")).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(commits_.load(), 1) << "after_commit runs only for commits that count";

  std::vector<std::string> rescued;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    if (entry.path().filename().string().rfind("intake.db.rescued-", 0) == 0) {
      rescued.push_back(entry.path().string());
    }
  }
  ASSERT_EQ(rescued.size(), 1u);
  SQLite::Database copy(rescued[0], SQLite::OPEN_READONLY);
  SQLite::Statement keys(copy, "SELECT k FROM t ORDER BY k");
  std::vector<std::string> found;
  while (keys.executeStep()) found.push_back(keys.getColumn(0).getString());
  // What the deleted file held, the refused write included: nothing acknowledged is missing.
  EXPECT_EQ(found, (std::vector<std::string>{"before", "into-the-void"}));
}

// Commits `commits` one-row writes one after another while another connection keeps reading,
// and returns the size of the WAL file (its high-water mark) before the writer closes.
uintmax_t WalBytesAfterSteadyWrites(int checkpoint_frames, int commits) {
  TempDir dir;
  const std::string path = dir.File("intake.db");
  GroupCommitWriter::Options options;
  options.checkpoint_frames = checkpoint_frames;
  GroupCommitWriter writer(NewDatabase(path), std::move(options));
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    auto db = OpenConnection(path, ConnectionRole::kReader);
    ASSERT_TRUE(db.ok()) << db.status();
    while (!stop.load()) (*db)->execAndGet("SELECT count(*) FROM t");
  });
  for (int i = 0; i < commits; ++i) EXPECT_TRUE(writer.Run(Insert(std::to_string(i))).ok());
  stop.store(true);
  reader.join();
  return std::filesystem::file_size(path + "-wal");
}

TEST(GroupCommitWriterCheckpointTest, TheWalStartsOverAfterCheckpointsUnderSteadyWrites) {
  constexpr int kCommits = 1000;
  constexpr int kCheckpointFrames = 64;
  constexpr uintmax_t kFrameBytes = 24 + 4096;  // Frame header + page.
  // Each commit writes at least one frame, so without checkpoints the WAL holds them all.
  const uintmax_t without = WalBytesAfterSteadyWrites(/*checkpoint_frames=*/0, kCommits);
  EXPECT_GE(without, kCommits * kFrameBytes);
  // With them, the WAL starts over once the checkpoint has copied it. A reader mid-snapshot
  // delays that until it ends: a commit or two on a quiet machine, more when the reader's
  // thread is descheduled on a loaded one; a WAL that never restarts would hold all 1,000.
  EXPECT_LE(WalBytesAfterSteadyWrites(kCheckpointFrames, kCommits), without / 4);
}

// Records what the writer tells its observer.
class RecordingObserver final : public WriterObserver {
 public:
  void OnBatch(size_t writes, absl::Duration duration, bool committed, int wal_frames) override {
    absl::MutexLock lock(&mu_);
    writes_ += writes;
    ++batches_;
    all_committed_ &= committed;
    all_timed_ &= duration > absl::ZeroDuration();
    last_wal_frames_ = wal_frames;
  }
  void OnCheckpoint(absl::Duration duration, bool ok) override {
    absl::MutexLock lock(&mu_);
    ++checkpoints_;
    all_timed_ &= duration > absl::ZeroDuration();
    all_committed_ &= ok;
  }

  mutable absl::Mutex mu_;
  size_t writes_ ABSL_GUARDED_BY(mu_) = 0;
  int batches_ ABSL_GUARDED_BY(mu_) = 0;
  int checkpoints_ ABSL_GUARDED_BY(mu_) = 0;
  bool all_committed_ ABSL_GUARDED_BY(mu_) = true;
  bool all_timed_ ABSL_GUARDED_BY(mu_) = true;
  int last_wal_frames_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(GroupCommitWriterObserverTest, HearsEveryBatchAndCheckpointWithItsDuration) {
  TempDir dir;
  RecordingObserver observer;
  {
    std::unique_ptr<SQLite::Database> db = NewDatabase(dir.File("intake.db"));
    ASSERT_NE(db, nullptr);
    GroupCommitWriter::Options options;
    options.checkpoint_frames = 2;
    options.observer = &observer;
    GroupCommitWriter writer(std::move(db), options);
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(writer.Run(Insert(std::to_string(i))).ok());
    }
    absl::MutexLock lock(&observer.mu_);
    EXPECT_GT(observer.last_wal_frames_, 0);
  }
  absl::MutexLock lock(&observer.mu_);
  EXPECT_EQ(observer.writes_, 20u);
  EXPECT_EQ(observer.batches_, 20);  // Run waits for each: one write a batch.
  EXPECT_GT(observer.checkpoints_, 0);
  EXPECT_TRUE(observer.all_committed_);
  EXPECT_TRUE(observer.all_timed_);
}

TEST_F(GroupCommitWriterTest, RunReportsHowLongTheWriteHeldTheWriter) {
  absl::Duration held = absl::InfiniteDuration();
  ASSERT_TRUE(writer_->Run(Insert("a"), &held).ok());
  EXPECT_GE(held, absl::ZeroDuration());
  EXPECT_LT(held, absl::InfiniteDuration());
}

uintmax_t WalBytes(const TempDir& dir) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(dir.File("intake.db-wal"), ec);
  return ec ? 0 : size;
}

TEST_F(GroupCommitWriterTest, TruncateWalLeavesAnEmptyWalAndTheDataInTheDatabaseFile) {
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(writer_->Run(Insert(std::to_string(i))).ok());
  ASSERT_GT(WalBytes(dir_), 0u);
  EXPECT_TRUE(writer_->TruncateWal(absl::Seconds(30)).ok());
  EXPECT_EQ(WalBytes(dir_), 0u);
  EXPECT_EQ(Count(), 20);
  EXPECT_TRUE(writer_->Run(Insert("after")).ok()) << "writing goes on with a new WAL";
  EXPECT_EQ(Count(), 21);
}

TEST_F(GroupCommitWriterTest, TruncateWalWaitsForReadersWithoutStallingWrites) {
  ASSERT_TRUE(writer_->Run(Insert("a")).ok());
  // A reader in the middle of a snapshot that includes WAL frames.
  auto reader = OpenConnection(dir_.File("intake.db"), ConnectionRole::kReader);
  ASSERT_TRUE(reader.ok());
  (*reader)->exec("BEGIN");
  ASSERT_EQ((*reader)->execAndGet("SELECT count(*) FROM t").getInt64(), 1);

  EXPECT_EQ(writer_->TruncateWal(absl::Milliseconds(50)).code(),
            absl::StatusCode::kDeadlineExceeded);
  std::atomic<bool> truncated{false};
  absl::Status status;
  std::thread waiter([&] {
    status = writer_->TruncateWal(absl::Seconds(60));
    truncated = true;
  });
  // Writes go on while the truncation waits for the reader.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(writer_->Run(Insert("b" + std::to_string(i))).ok());
  EXPECT_FALSE(truncated.load()) << "the reader still holds its snapshot";
  (*reader)->exec("COMMIT");
  waiter.join();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(WalBytes(dir_), 0u);
  EXPECT_EQ(Count(), 6);
}

}  // namespace
}  // namespace intake::store
