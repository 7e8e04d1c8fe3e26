#include "server/store/group_commit_writer.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <exception>
#include <iostream>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "server/store/sqlite_status.h"

namespace intake::store {

namespace {

// The identity of the file at `path` now; nullopt if there is none.
template <typename FileId>
std::optional<FileId> IdentityOf(const std::string& path) {
  struct stat st;
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

// Why the directory of `path` refuses writes, as " (reason)", found by making a file there;
// "" if it takes one. SQLite's "disk I/O error" does not say that the filesystem went
// read-only, and a filesystem can refuse writes while access(2) says it would not.
std::string DiagnoseDirectoryOf(const std::string& path) {
  if (path.empty()) return "";
  const std::string probe = absl::StrCat(path, ".write-probe");
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  const int error = errno;
  if (fd < 0) return absl::StrCat(" (", std::strerror(error), ")");
  const bool wrote = ::write(fd, "x", 1) == 1;
  const int write_error = errno;
  ::close(fd);
  ::unlink(probe.c_str());
  return wrote ? "" : absl::StrCat(" (", std::strerror(write_error), ")");
}

}  // namespace

GroupCommitWriter::GroupCommitWriter(std::unique_ptr<SQLite::Database> db, Options options)
    : db_(std::move(db)),
      statements_(*db_),
      options_(std::move(options)),
      db_path_(sqlite3_db_filename(db_->getHandle(), "main")),
      wal_path_(db_path_.empty()
                    ? ""
                    : sqlite3_filename_wal(sqlite3_db_filename(db_->getHandle(), "main"))) {
  db_file_ = IdentityOf<FileId>(db_path_);
  sqlite3_wal_hook(db_->getHandle(), &GroupCommitWriter::OnWalCommit, this);
  reply_thread_ = std::thread([this] { ReplyLoop(); });
  thread_ = std::thread([this] { Loop(); });
}

GroupCommitWriter::~GroupCommitWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
  {
    absl::MutexLock lock(&reply_mu_);
    replies_closed_ = true;
  }
  reply_thread_.join();
}

void GroupCommitWriter::Submit(Apply apply, Done done) {
  bool stopping = false;
  {
    absl::MutexLock lock(&mu_);
    stopping = stopping_;
    if (!stopping && pending_.size() < options_.max_pending) {
      pending_.push_back(Write{std::move(apply), std::move(done)});
      return;
    }
  }
  std::move(done)(absl::UnavailableError(
      stopping ? "the database writer has stopped"
               : "the database writer is behind by more writes than it queues; retry shortly"));
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

absl::Status GroupCommitWriter::Run(Apply apply, absl::Duration* held) {
  if (held != nullptr) {
    apply = [inner = std::move(apply), held](SQLite::Database& db) mutable {
      // A work budget, not a time of day: steady_clock, not the injected Clock.
      const auto start = std::chrono::steady_clock::now();
      const auto stop = absl::MakeCleanup(
          [&] { *held = absl::FromChrono(std::chrono::steady_clock::now() - start); });
      return std::move(inner)(db);
    };
  }
  absl::Notification finished;
  absl::Status result;
  Submit(std::move(apply), [&](absl::Status s) {
    result = std::move(s);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

namespace {

// A write that writes nothing: it only makes the writer run a batch (and what follows one).
absl::Status WriteNothing(SQLite::Database&) { return absl::OkStatus(); }
void IgnoreStatus(const absl::Status&) {}

}  // namespace

absl::Status GroupCommitWriter::TruncateWal(absl::Duration timeout) {
  uint64_t ticket;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("the database writer has stopped");
    ticket = ++truncations_requested_;
  }
  Submit(WriteNothing, IgnoreStatus);  // The attempt follows the next batch: make one now.
  // Answered once an emptied WAL covers this request.
  struct Answered {
    const GroupCommitWriter* writer;
    uint64_t ticket;
    // Await evaluates it with mu_ held.
    bool operator()() const ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return writer->truncations_done_ >= ticket;
    }
  } const answered{this, ticket};
  absl::MutexLock lock(&mu_);
  if (!mu_.AwaitWithTimeout(absl::Condition(&answered), timeout)) {
    return absl::DeadlineExceededError("a reader kept the WAL in use; the writer keeps trying");
  }
  return absl::OkStatus();
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
    uint64_t truncation_ticket = 0;  // The TruncateWal calls made before this batch.
    {
      absl::MutexLock lock(&mu_);
      if (!AwaitBatch(&batch)) return;
      truncation_ticket = truncations_requested_;
    }
    CommitBatch(batch);
    MaybeCheckpoint();
    MaybeTruncateWal(truncation_ticket);
  }
}

void GroupCommitWriter::MaybeTruncateWal(uint64_t ticket) {
  {
    absl::MutexLock lock(&mu_);
    if (truncations_done_ >= ticket) return;
  }
  if (TryTruncateWal()) {
    absl::MutexLock lock(&mu_);
    truncations_done_ = std::max(truncations_done_, ticket);
    return;
  }
  // A reader is still on the WAL: try again after the next batch, due within kTruncateRetry.
  SubmitLazy(WriteNothing, IgnoreStatus, kTruncateRetry);
}

bool GroupCommitWriter::TryTruncateWal() {
  sqlite3* db = db_->getHandle();
  sqlite3_busy_timeout(db, 0);
  const int rc =
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(options_.busy_timeout)));
  if (rc == SQLITE_OK) {
    wal_frames_ = 0;
    return true;
  }
  // SQLITE_BUSY: a reader is still on the WAL (what could be copied was copied meanwhile).
  if (rc != SQLITE_BUSY && !checkpoint_failed_) {
    std::cerr << "intaked: emptying the WAL failed: " << sqlite3_errstr(rc) << "\n";
    checkpoint_failed_ = true;
  }
  return false;
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

absl::Status GroupCommitWriter::CheckFilesInPlace() {
  if (!db_file_) return absl::OkStatus();  // An in-memory or temporary database.
  if (!wal_file_) wal_file_ = IdentityOf<FileId>(wal_path_);
  if (IdentityOf<FileId>(db_path_) == db_file_ && IdentityOf<FileId>(wal_path_) == wal_file_) {
    return absl::OkStatus();
  }
  return absl::UnavailableError(
      "the database file was deleted or replaced while intaked was running; intaked stores "
      "nothing more until it is restarted");
}

void GroupCommitWriter::Rescue() {
  const std::string rescue = absl::StrCat(db_path_, ".rescued-", std::time(nullptr));
  std::string outcome;
  try {
    SQLite::Statement copy(*db_, "VACUUM INTO ?");
    copy.bind(1, rescue);
    copy.exec();
    outcome = absl::StrCat("everything it held is saved in ", rescue, ". Stop intaked, remove any ",
                           db_path_, "-wal and ", db_path_, "-shm, and put the right database at ",
                           db_path_, " (the saved copy, if the file was removed by mistake)");
  } catch (const std::exception& e) {
    outcome = absl::StrCat("saving a copy to ", rescue, " failed (", e.what(),
                           "); stop intaked with SIGTERM and keep its data directory as it is");
  }
  // The WAL at the path is this file's: emptied into it, it cannot be replayed into a file
  // that took the database's place (by a reader opened there, or at the next start).
  const int rc = sqlite3_wal_checkpoint_v2(db_->getHandle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                           nullptr, nullptr);
  if (rc != SQLITE_OK) {
    absl::StrAppend(&outcome, "; its WAL could not be emptied (", sqlite3_errstr(rc), "): remove ",
                    db_path_, "-wal before starting intaked again");
  }
  std::cerr << "intaked: the database file " << db_path_
            << " (or its WAL) was deleted or replaced while intaked was running. Every write "
               "is refused from now on (UNAVAILABLE), since one acknowledged now would be "
               "lost at the next start; "
            << outcome << ".\n";
}

void GroupCommitWriter::NoteCommitResult(const absl::Status& status) {
  if (status.ok()) {
    if (commit_failed_) std::cerr << "intaked: commits succeed again\n";
    commit_failed_ = false;
    return;
  }
  if (!commit_failed_ && files_moved_.ok()) {
    // SQLite's message ("disk I/O error") with what the directory shows ("Read-only file
    // system"); neither names any data.
    std::cerr << "intaked: " << status.message() << DiagnoseDirectoryOf(db_path_)
              << "; submissions get UNAVAILABLE until a commit succeeds\n";
  }
  commit_failed_ = true;
}

void GroupCommitWriter::ReplyLoop() {
  std::vector<Reply> replies;
  while (true) {
    {
      absl::MutexLock lock(&reply_mu_);
      reply_mu_.Await(absl::Condition(this, &GroupCommitWriter::HasRepliesOrClosed));
      if (replies_.empty()) return;  // Closed, and every reply made.
      replies.swap(replies_);
    }
    for (Reply& reply : replies) std::move(reply.done)(std::move(reply.status));
    replies.clear();
  }
}

void GroupCommitWriter::CommitBatch(std::deque<Write>& batch) {
  std::vector<absl::Status> results(batch.size());
  absl::Status batch_status;
  if (!files_moved_.ok()) {
    absl::MutexLock lock(&reply_mu_);
    for (Write& write : batch) replies_.push_back(Reply{std::move(write.done), files_moved_});
    return;
  }
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
  if (batch_status.ok()) {
    batch_status = CheckFilesInPlace();
    if (!batch_status.ok()) {
      files_moved_ = batch_status;
      Rescue();
    }
  }
  NoteCommitResult(batch_status);
  if (batch_status.ok() && options_.after_commit) options_.after_commit(*db_);
  {
    absl::MutexLock lock(&reply_mu_);
    for (size_t i = 0; i < batch.size(); ++i) {
      replies_.push_back(Reply{std::move(batch[i].done),
                               batch_status.ok() ? std::move(results[i])
                                                 : absl::UnavailableError(batch_status.message())});
    }
  }
  if (options_.observer != nullptr) {
    options_.observer->OnBatch(batch.size(), absl::FromChrono(committed - start), batch_status.ok(),
                               wal_frames_);
  }
}

}  // namespace intake::store
