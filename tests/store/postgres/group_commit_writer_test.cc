#include "server/store/postgres/group_commit_writer.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/store/postgres/event_log.h"
#include "server/store/postgres/migrations.h"
#include "tests/testing/pg_test.h"

namespace intake::store::postgres {
namespace {

// A write of one row into t (created by the fixture).
GroupCommitWriter::Apply Insert(std::string key) {
  return [key = std::move(key)](WriteTxn& txn) {
    return txn.Exec("INSERT INTO t (k) VALUES ($1)", {key}).status();
  };
}

// A write that holds the writer until `release`. Submit it, wait for `started` (the writer
// has taken its batch, so nothing submitted after joins it), then the writes submitted
// before `release` make up the next batch.
struct Hold {
  absl::Notification started;
  absl::Notification release;
};
GroupCommitWriter::Apply HoldUntil(Hold& hold) {
  return [&hold](WriteTxn&) {
    hold.started.Notify();
    hold.release.WaitForNotification();
    return absl::OkStatus();
  };
}

// Collects a write's status.
struct Outcome {
  absl::Status status = absl::UnknownError("not done");
  absl::Notification done;
  GroupCommitWriter::Done Callback() {
    return [this](absl::Status s) {
      status = std::move(s);
      done.Notify();
    };
  }
};

class GroupCommitWriterTest : public ::intake::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    admin_ = Connect();
    ASSERT_NE(admin_, nullptr);
    ASSERT_TRUE(Migrate(*admin_).ok());
    ASSERT_TRUE(admin_->ExecScript("CREATE TABLE t (k text PRIMARY KEY, txid bigint)").ok());
    writer_ = StartWriter();
    ASSERT_NE(writer_, nullptr);
  }

  std::unique_ptr<Connection> Connect() {
    auto conn = Connection::Open(uri_, "group_commit_writer_test");
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  std::unique_ptr<GroupCommitWriter> StartWriter(
      absl::Duration reconnect_delay = absl::Seconds(1)) {
    GroupCommitWriter::Options options;
    options.conninfo = uri_;
    options.reconnect_delay = reconnect_delay;
    options.after_commit = [this](uint64_t head, const std::vector<std::string>& providers) {
      absl::MutexLock lock(&mu_);
      commits_.push_back({head, providers});
    };
    auto writer = GroupCommitWriter::Start(std::move(options));
    EXPECT_TRUE(writer.ok()) << writer.status();
    return writer.ok() ? *std::move(writer) : nullptr;
  }

  int64_t QueryInt(const std::string& sql) {
    auto result = admin_->Exec(sql);
    EXPECT_TRUE(result.ok()) << sql << ": " << result.status();
    return result.ok() && result->rows() == 1 ? result->Int64(0, 0) : -1;
  }

  // The backend of the one writer connection of this test's database.
  int WriterPid() {
    return static_cast<int>(
        QueryInt("SELECT pid FROM pg_stat_activity WHERE application_name = 'intaked-writer' "
                 "AND datname = current_database()"));
  }

  struct Commit {
    uint64_t head;
    std::vector<std::string> providers;
  };
  absl::Mutex mu_;
  std::vector<Commit> commits_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Connection> admin_;
  std::unique_ptr<GroupCommitWriter> writer_;
};

TEST_F(GroupCommitWriterTest, RunReturnsOnlyOnceTheWriteIsCommitted) {
  EXPECT_TRUE(writer_->Run(Insert("a")).ok());
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t"), 1) << "another connection sees it at once";
  absl::MutexLock lock(&mu_);
  EXPECT_TRUE(commits_.empty()) << "no events, no after_commit";
}

TEST_F(GroupCommitWriterTest, AFailingWriteIsUndoneAloneAndReportsItsOwnStatus) {
  ASSERT_TRUE(writer_->Run(Insert("dup")).ok());
  Hold hold;
  writer_->Submit(HoldUntil(hold), [](const absl::Status&) {});
  hold.started.WaitForNotification();
  Outcome x, half, dup, after;
  writer_->Submit(Insert("x"), x.Callback());
  writer_->Submit(
      [](WriteTxn& txn) {
        absl::Status s = txn.Exec("INSERT INTO t (k) VALUES ('half')").status();
        if (!s.ok()) return s;
        return absl::FailedPreconditionError("refused after writing");
      },
      half.Callback());
  writer_->Submit(Insert("dup"), dup.Callback());
  writer_->Submit(Insert("after"), after.Callback());
  hold.release.Notify();
  for (Outcome* o : {&x, &half, &dup, &after}) o->done.WaitForNotification();
  EXPECT_TRUE(x.status.ok()) << x.status;
  EXPECT_EQ(half.status.code(), absl::StatusCode::kFailedPrecondition) << half.status;
  EXPECT_EQ(dup.status.code(), absl::StatusCode::kAlreadyExists) << dup.status;
  EXPECT_TRUE(after.status.ok()) << after.status;
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t"), 3) << "dup, x and after; nothing of the others";
}

TEST_F(GroupCommitWriterTest, AWriteCanRestartAfterLosingARaceOnAUniqueKey) {
  ASSERT_TRUE(writer_->Run(Insert("taken")).ok());
  std::string seen;
  absl::Status status = writer_->Run([&](WriteTxn& txn) -> absl::Status {
    if (absl::Status s = txn.Exec("INSERT INTO t (k) VALUES ('mine')").status(); !s.ok()) {
      return s;
    }
    absl::StatusOr<Result> insert = txn.Exec("INSERT INTO t (k) VALUES ('taken')");
    if (insert.status().code() != absl::StatusCode::kAlreadyExists) return insert.status();
    txn.Restart();
    absl::StatusOr<Result> winner = txn.Exec("SELECT k FROM t WHERE k = 'taken'");
    if (!winner.ok()) return winner.status();
    seen = std::string(winner->Text(0, 0));
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, "taken");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t WHERE k = 'mine'"), 0) << "Restart undid it";
}

// Two replicas' batches that both insert a brand-new row while each needs a lock the other
// holds. `other` plays the second replica: it holds advisory lock 42 and, once the writer's
// batch waits for that lock, inserts the row. The writer's batch: one write inserts the row
// (committed first, or inside the batch), then one takes lock 42. Returns the status of
// other's insert; `first` and `second` get the writes'.
absl::Status RaceForANewRowAndALock(GroupCommitWriter& writer, Connection& admin, Connection& other,
                                    bool committed_first, Outcome& first, Outcome& second) {
  const Query row{"INSERT INTO t (k) VALUES ('shared') ON CONFLICT DO NOTHING", {}};
  EXPECT_TRUE(other.ExecScript("BEGIN; SELECT pg_advisory_xact_lock(42)").ok());
  Hold hold;
  writer.Submit(HoldUntil(hold), [](const absl::Status&) {});
  hold.started.WaitForNotification();
  writer.Submit([&row](WriteTxn& txn) { return txn.Exec(row.sql).status(); }, first.Callback(), {},
                committed_first ? std::vector<Query>{row} : std::vector<Query>{});
  writer.Submit([](WriteTxn& txn) { return txn.Exec("SELECT pg_advisory_xact_lock(42)").status(); },
                second.Callback());
  hold.release.Notify();
  for (int i = 0; i < 1000; ++i) {
    auto waiting =
        admin.Exec("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
    if (waiting.ok() && waiting->Int64(0, 0) == 1) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  absl::Status inserted = other.Exec(row.sql).status();
  EXPECT_TRUE(other.ExecScript(inserted.ok() ? "COMMIT" : "ROLLBACK").ok());
  first.done.WaitForNotification();
  second.done.WaitForNotification();
  return inserted;
}

TEST_F(GroupCommitWriterTest, ARowCommittedFirstKeepsTwoBatchesFromWaitingForEachOther) {
  std::unique_ptr<Connection> other = Connect();
  ASSERT_NE(other, nullptr);
  Outcome first, second;
  const absl::Status inserted =
      RaceForANewRowAndALock(*writer_, *admin_, *other, /*committed_first=*/true, first, second);
  EXPECT_TRUE(inserted.ok()) << inserted;
  EXPECT_TRUE(first.status.ok()) << first.status;
  EXPECT_TRUE(second.status.ok()) << second.status;
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t WHERE k = 'shared'"), 1);
}

// The control: inserted inside the batch, the same row deadlocks the two, and PostgreSQL
// ends one of them.
TEST_F(GroupCommitWriterTest, ControlARowInsertedInsideTheBatchDeadlocksTheTwo) {
  std::unique_ptr<Connection> other = Connect();
  ASSERT_NE(other, nullptr);
  Outcome first, second;
  const absl::Status inserted =
      RaceForANewRowAndALock(*writer_, *admin_, *other, /*committed_first=*/false, first, second);
  EXPECT_FALSE(inserted.ok() && first.status.ok() && second.status.ok())
      << "no deadlock: the test no longer makes the race it means to";
}

TEST_F(GroupCommitWriterTest, AWriteThatIgnoresAFailedStatementFailsAlone) {
  ASSERT_TRUE(writer_->Run(Insert("dup")).ok());
  Hold hold;
  writer_->Submit(HoldUntil(hold), [](const absl::Status&) {});
  hold.started.WaitForNotification();
  Outcome careless, fine;
  writer_->Submit(
      [](WriteTxn& txn) {
        txn.Exec("INSERT INTO t (k) VALUES ('dup')").IgnoreError();
        EXPECT_EQ(txn.Exec("SELECT 1").status().code(), absl::StatusCode::kFailedPrecondition);
        return absl::OkStatus();
      },
      careless.Callback());
  writer_->Submit(Insert("fine"), fine.Callback());
  hold.release.Notify();
  careless.done.WaitForNotification();
  fine.done.WaitForNotification();
  EXPECT_EQ(careless.status.code(), absl::StatusCode::kInternal) << careless.status;
  EXPECT_TRUE(fine.status.ok()) << fine.status;
}

TEST_F(GroupCommitWriterTest, ConcurrentWritesShareTransactions) {
  constexpr int kThreads = 8, kPerThread = 100;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::Status s = writer_->Run([key = absl::StrCat(t, "-", i)](WriteTxn& txn) {
          return txn.Exec("INSERT INTO t (k, txid) VALUES ($1, txid_current())", {key}).status();
        });
        EXPECT_TRUE(s.ok()) << s;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t"), kThreads * kPerThread);
  // Each thread waits for its own commit, so a batch holds up to kThreads writes.
  EXPECT_LT(QueryInt("SELECT count(DISTINCT txid) FROM t"), kThreads * kPerThread);
  EXPECT_LE(QueryInt("SELECT max(n) FROM (SELECT count(*) AS n FROM t GROUP BY txid) b"), kThreads);
}

TEST_F(GroupCommitWriterTest, EventsAreNumberedAtCommitInWriteOrderAndDroppedWithTheirWrite) {
  Hold hold;
  writer_->Submit(HoldUntil(hold), [](const absl::Status&) {});
  hold.started.WaitForNotification();
  Outcome first, failed, last;
  size_t seen_by_last = 0;
  writer_->Submit(
      [](WriteTxn& txn) {
        txn.AppendEvent(LeadEvent{0, LeadEventType::kAssigned, "lead-a", "p1", absl::Now()});
        txn.AppendEvent(LeadEvent{0, LeadEventType::kAssigned, "lead-b", "", absl::Now()});
        return absl::OkStatus();
      },
      first.Callback());
  writer_->Submit(
      [](WriteTxn& txn) {
        txn.AppendEvent(LeadEvent{0, LeadEventType::kAssigned, "lead-x", "p9", absl::Now()});
        return absl::AbortedError("changed its mind");
      },
      failed.Callback());
  writer_->Submit(
      [&](WriteTxn& txn) {
        seen_by_last = txn.batch_events().size();
        txn.AppendEvent(LeadEvent{0, LeadEventType::kResubmitted, "lead-a", "p1", absl::Now()});
        return absl::OkStatus();
      },
      last.Callback());
  hold.release.Notify();
  for (Outcome* o : {&first, &failed, &last}) o->done.WaitForNotification();
  EXPECT_TRUE(first.status.ok());
  EXPECT_EQ(failed.status.code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(last.status.ok());
  EXPECT_EQ(seen_by_last, 2u) << "the first write's events, not the failed one's";
  auto events = ReadEvents(*admin_, 0, "", 10);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].lead_id, "lead-a");
  EXPECT_EQ((*events)[1].lead_id, "lead-b");
  EXPECT_EQ((*events)[2].type, LeadEventType::kResubmitted);
  EXPECT_EQ((*events)[2].sequence, 3u);
  absl::MutexLock lock(&mu_);
  ASSERT_EQ(commits_.size(), 1u);
  EXPECT_EQ(commits_[0].head, 3u);
  EXPECT_EQ(commits_[0].providers, (std::vector<std::string>{"p1", ""}));
}

TEST_F(GroupCommitWriterTest, AFailedCommitFailsTheWholeBatchStoresNothingAndQuotesNoValue) {
  ASSERT_TRUE(admin_
                  ->ExecScript("CREATE TABLE u (phone text CONSTRAINT u_phone UNIQUE DEFERRABLE "
                               "INITIALLY DEFERRED)")
                  .ok());
  const std::string phone = "+13055550123";
  Hold hold;
  writer_->Submit(HoldUntil(hold), [](const absl::Status&) {});
  hold.started.WaitForNotification();
  Outcome a, b, c;
  const auto insert_phone = [&](WriteTxn& txn) {
    return txn.Exec("INSERT INTO u (phone) VALUES ($1)", {phone}).status();
  };
  writer_->Submit(insert_phone, a.Callback());
  writer_->Submit(Insert("innocent"), b.Callback());
  writer_->Submit(insert_phone, c.Callback());  // Checked only at COMMIT.
  hold.release.Notify();
  for (Outcome* o : {&a, &b, &c}) {
    o->done.WaitForNotification();
    EXPECT_EQ(o->status.code(), absl::StatusCode::kUnavailable) << o->status;
    EXPECT_FALSE(absl::StrContains(o->status.message(), "5550123")) << o->status;
  }
  EXPECT_EQ(QueryInt("SELECT count(*) FROM u"), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t"), 0);
  EXPECT_TRUE(writer_->Run(Insert("next")).ok()) << "the writer goes on with the next batch";
}

TEST_F(GroupCommitWriterTest, ALostConnectionFailsItsBatchAndTheNextBatchReconnects) {
  const int before = WriterPid();
  absl::Notification inside, release;
  Outcome held, queued;
  writer_->Submit(
      [&](WriteTxn& txn) {
        absl::Status s = txn.Exec("INSERT INTO t (k) VALUES ('held')").status();
        inside.Notify();
        release.WaitForNotification();
        if (!s.ok()) return s;
        return txn.Exec("INSERT INTO t (k) VALUES ('held-2')").status();
      },
      held.Callback());
  inside.WaitForNotification();
  writer_->Submit(Insert("queued"), queued.Callback());
  auto terminated = admin_->Exec("SELECT pg_terminate_backend($1)", {before});
  EXPECT_TRUE(terminated.ok()) << terminated.status();
  release.Notify();
  held.done.WaitForNotification();
  EXPECT_EQ(held.status.code(), absl::StatusCode::kUnavailable) << held.status;
  queued.done.WaitForNotification();
  EXPECT_TRUE(queued.status.ok()) << queued.status << ": the next batch reconnected";
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t WHERE k LIKE 'held%'"), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t WHERE k = 'queued'"), 1);
  EXPECT_NE(WriterPid(), before);
}

TEST_F(GroupCommitWriterTest, AServerRestartCostsOneBatchThenWritesGoOn) {
  ASSERT_TRUE(writer_->Run(Insert("before")).ok());
  ASSERT_TRUE(server_->CrashAndRestart().ok());
  admin_ = Connect();
  ASSERT_NE(admin_, nullptr);
  absl::Status first = writer_->Run(Insert("lost"));
  EXPECT_EQ(first.code(), absl::StatusCode::kUnavailable) << first;
  EXPECT_TRUE(writer_->Run(Insert("after")).ok());
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t"), 2) << "before and after";
}

TEST_F(GroupCommitWriterTest, WhileTheServerIsUnreachableWritesFailAtOnceBetweenAttempts) {
  writer_ = StartWriter(/*reconnect_delay=*/absl::Hours(1));
  ASSERT_NE(writer_, nullptr);
  ASSERT_TRUE(writer_->Run(Insert("before")).ok());
  server_->Stop();
  absl::Status on_the_lost_connection = writer_->Run(Insert("a"));
  EXPECT_EQ(on_the_lost_connection.code(), absl::StatusCode::kUnavailable);
  absl::Status reconnecting = writer_->Run(Insert("b"));
  EXPECT_EQ(reconnecting.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(reconnecting.message(), "connecting")) << reconnecting;
  ASSERT_TRUE(server_->Resume().ok());
  absl::Status backing_off = writer_->Run(Insert("c"));
  EXPECT_EQ(backing_off.code(), absl::StatusCode::kUnavailable)
      << "no new attempt before reconnect_delay has passed";
  EXPECT_EQ(backing_off.message(), reconnecting.message());
}

TEST_F(GroupCommitWriterTest, TheWriterCommitsDurablyInReadCommittedWhateverTheDefaults) {
  ASSERT_TRUE(
      admin_
          ->ExecScript(absl::StrCat("ALTER DATABASE ", database_,
                                    " SET synchronous_commit = off; ALTER DATABASE ", database_,
                                    " SET default_transaction_isolation = 'repeatable read'"))
          .ok());
  std::unique_ptr<GroupCommitWriter> writer = StartWriter();
  ASSERT_NE(writer, nullptr);
  std::string sync, isolation;
  ASSERT_TRUE(writer
                  ->Run([&](WriteTxn& txn) -> absl::Status {
                    auto row = txn.Exec(
                        "SELECT current_setting('synchronous_commit'), "
                        "current_setting('transaction_isolation')");
                    if (!row.ok()) return row.status();
                    sync = std::string(row->Text(0, 0));
                    isolation = std::string(row->Text(0, 1));
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(sync, "on");
  EXPECT_EQ(isolation, "read committed");
}

TEST_F(GroupCommitWriterTest, DestroyingTheWriterFinishesEverySubmittedWrite) {
  std::atomic<int> ok{0};
  for (int i = 0; i < 100; ++i) {
    writer_->Submit(Insert(absl::StrCat("k", i)), [&](const absl::Status& s) { ok += s.ok(); });
  }
  writer_.reset();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM t"), 100);
}

}  // namespace
}  // namespace intake::store::postgres
