#include "server/store/group_commit_writer.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <iostream>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "server/store/sqlite_status.h"

namespace intake::store {

GroupCommitWriter::GroupCommitWriter(std::unique_ptr<SQLite::Database> db, Options options)
    : db_(std::move(db)), statements_(*db_), options_(std::move(options)) {
  sqlite3_wal_hook(db_->getHandle(), &GroupCommitWriter::OnWalCommit, this);
  thread_ = std::thread([this] { Loop(); });
}

GroupCommitWriter::~GroupCommitWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void GroupCommitWriter::Submit(Apply apply, Done done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      pending_.push_back(Write{std::move(apply), std::move(done)});
      return;
    }
  }
  std::move(done)(absl::UnavailableError("the database writer has stopped"));
}

void GroupCommitWriter::SubmitLazy(Apply apply, Done done, absl::Duration max_delay) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      lazy_.push_back(Write{std::move(apply), std::move(done)});
      lazy_deadline_ = std::min(lazy_deadline_, absl::Now() + max_delay);
      return;
    }
  }
  std::move(done)(absl::UnavailableError("the database writer has stopped"));
}

absl::Status GroupCommitWriter::Run(Apply apply) {
  absl::Notification finished;
  absl::Status result;
  Submit(std::move(apply), [&](absl::Status s) {
    result = std::move(s);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

bool GroupCommitWriter::AwaitBatch(std::deque<Write>* batch) {
  while (!HasWorkOrStopping()) {
    if (lazy_.empty()) {
      mu_.Await(absl::Condition(this, &GroupCommitWriter::HasAnyWriteOrStopping));
    } else if (absl::Now() >= lazy_deadline_ ||
               !mu_.AwaitWithDeadline(absl::Condition(this, &GroupCommitWriter::HasWorkOrStopping),
                                      lazy_deadline_)) {
      break;  // The lazy writes waited long enough: they make a batch of their own.
    }
  }
  if (pending_.empty() && lazy_.empty()) return false;  // Stopping, and everything is done.
  const size_t n = std::min(pending_.size(), options_.max_batch);
  for (size_t i = 0; i < n; ++i) {
    batch->push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
  // Lazy writes ride along with whatever commits next.
  while (!lazy_.empty()) {
    batch->push_back(std::move(lazy_.front()));
    lazy_.pop_front();
  }
  lazy_deadline_ = absl::InfiniteFuture();
  return true;
}

void GroupCommitWriter::Loop() {
  while (true) {
    std::deque<Write> batch;
    {
      absl::MutexLock lock(&mu_);
      if (!AwaitBatch(&batch)) return;
    }
    CommitBatch(batch);
    MaybeCheckpoint();
  }
}

int GroupCommitWriter::OnWalCommit(void* self, sqlite3* /*db*/, const char* /*schema*/,
                                   int wal_frames) {
  static_cast<GroupCommitWriter*>(self)->wal_frames_ = wal_frames;
  return SQLITE_OK;
}

void GroupCommitWriter::MaybeCheckpoint() {
  if (options_.checkpoint_frames <= 0 || wal_frames_ < options_.checkpoint_frames) return;
  int wal_frames = 0;
  int copied = 0;
  const auto start = std::chrono::steady_clock::now();
  const int rc = sqlite3_wal_checkpoint_v2(db_->getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           &wal_frames, &copied);
  // The WAL keeps every commit safe meanwhile; the next batch tries again.
  if (rc == SQLITE_BUSY) return;  // Another connection is checkpointing.
  if (options_.observer != nullptr) {
    options_.observer->OnCheckpoint(absl::FromChrono(std::chrono::steady_clock::now() - start),
                                    rc == SQLITE_OK);
  }
  if (rc != SQLITE_OK) {
    // Logged once per run of failures; SQLite's messages name no data.
    if (!checkpoint_failed_) {
      std::cerr << "intaked: checkpointing the WAL failed: " << sqlite3_errstr(rc) << "\n";
    }
    checkpoint_failed_ = true;
    return;
  }
  checkpoint_failed_ = false;
  // A reader still on an older snapshot keeps the rest; the next batch copies it.
  if (copied == wal_frames) wal_frames_ = 0;
}

void GroupCommitWriter::CommitBatch(std::deque<Write>& batch) {
  std::vector<absl::Status> results(batch.size());
  absl::Status batch_status;
  const auto start = std::chrono::steady_clock::now();
  // The transaction's own statements, prepared once: compiling them anew each time cost
  // more than a small write.
  const auto run = [this](const char* sql) { statements_.Get(sql).exec(); };
  try {
    run("BEGIN IMMEDIATE");
    for (size_t i = 0; i < batch.size(); ++i) {
      run("SAVEPOINT write");
      try {
        results[i] = std::move(batch[i].apply)(*db_);
      } catch (const std::exception& e) {
        results[i] = SqliteError("writing", e);
      }
      statements_.ResetAll();
      // SQLite rolls the whole transaction back by itself on some errors (I/O, full disk);
      // then the batch is lost and every write in it must hear so.
      if (sqlite3_get_autocommit(db_->getHandle()) != 0) {
        throw SQLite::Exception("the transaction was rolled back by SQLite", SQLITE_IOERR);
      }
      if (!results[i].ok()) run("ROLLBACK TO write");
      run("RELEASE write");
    }
    run("COMMIT");
  } catch (const std::exception& e) {
    batch_status = SqliteError("committing a batch", e);
    if (sqlite3_get_autocommit(db_->getHandle()) == 0) {
      try {
        db_->exec("ROLLBACK");
      } catch (const std::exception&) {
        // Nothing more can be done; the next BEGIN reports the connection's state.
      }
    }
  }
  const auto committed = std::chrono::steady_clock::now();
  if (batch_status.ok() && options_.after_commit) options_.after_commit(*db_);
  for (size_t i = 0; i < batch.size(); ++i) {
    std::move(batch[i].done)(batch_status.ok() ? std::move(results[i])
                                               : absl::UnavailableError(batch_status.message()));
  }
  if (options_.observer != nullptr) {
    options_.observer->OnBatch(batch.size(), absl::FromChrono(committed - start), batch_status.ok(),
                               wal_frames_);
  }
}

}  // namespace intake::store
