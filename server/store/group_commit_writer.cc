#include "server/store/group_commit_writer.h"

#include <sqlite3.h>

#include <algorithm>
#include <exception>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "server/store/sqlite_status.h"

namespace intake::store {

GroupCommitWriter::GroupCommitWriter(std::unique_ptr<SQLite::Database> db, Options options)
    : db_(std::move(db)),
      statements_(*db_),
      options_(std::move(options)),
      thread_([this] { Loop(); }) {}

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

void GroupCommitWriter::Loop() {
  while (true) {
    std::deque<Write> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &GroupCommitWriter::HasWorkOrStopping));
      if (pending_.empty()) return;  // Stopping, and everything submitted is done.
      const size_t n = std::min(pending_.size(), options_.max_batch);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    CommitBatch(batch);
  }
}

void GroupCommitWriter::CommitBatch(std::deque<Write>& batch) {
  std::vector<absl::Status> results(batch.size());
  absl::Status batch_status;
  try {
    db_->exec("BEGIN IMMEDIATE");
    for (size_t i = 0; i < batch.size(); ++i) {
      db_->exec("SAVEPOINT write");
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
      if (!results[i].ok()) db_->exec("ROLLBACK TO write");
      db_->exec("RELEASE write");
    }
    db_->exec("COMMIT");
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
  if (batch_status.ok() && options_.after_commit) options_.after_commit(*db_);
  for (size_t i = 0; i < batch.size(); ++i) {
    std::move(batch[i].done)(batch_status.ok() ? std::move(results[i])
                                               : absl::UnavailableError(batch_status.message()));
  }
}

}  // namespace intake::store
