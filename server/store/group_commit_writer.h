// The one thread that writes to the database: it gathers every pending write into one
// transaction, commits once (one fsync for the batch), and only then reports each result,
// through a second thread, so that it applies the next batch while callers hear back from
// the last. It also checkpoints the WAL between batches, and empties it on request (after an
// erasure).
#ifndef INTAKE_SERVER_STORE_GROUP_COMMIT_WRITER_H_
#define INTAKE_SERVER_STORE_GROUP_COMMIT_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/store/statement_cache.h"

namespace intake::store {

// Told what the writer does, for metrics. Its methods run on the writer thread between
// batches, outside every lock of the writer: they must be quick and must never block (an
// atomic add, not I/O or a lock that others hold for long).
class WriterObserver {
 public:
  virtual ~WriterObserver() = default;
  // A batch of `writes` writes took `duration` from BEGIN to the end of COMMIT (its fsync
  // included) and `committed` or failed; the WAL then held `wal_frames` frames.
  virtual void OnBatch(size_t writes, absl::Duration duration, bool committed, int wal_frames) = 0;
  // A checkpoint took `duration` and succeeded or failed (busy counts as neither: not told).
  virtual void OnCheckpoint(absl::Duration duration, bool ok) = 0;
};

class GroupCommitWriter {
 public:
  // Runs inside the batch transaction, in a savepoint of its own: returning an error (or
  // throwing SQLite::Exception) undoes this write alone. Runs on the writer thread.
  using Apply = absl::AnyInvocable<absl::Status(SQLite::Database&) &&>;
  // Receives the write's final status once its batch has committed (or failed): OK means the
  // write is on disk. Runs on the reply thread, in the order of the writes, so it must not
  // block (it would hold up every reply after it); it may call Submit or SubmitLazy.
  using Done = absl::AnyInvocable<void(absl::Status) &&>;
  // Runs on the writer thread after each successful commit, before the batch's Done calls,
  // outside any transaction.
  using AfterCommit = std::function<void(SQLite::Database&)>;

  struct Options {
    // Most writes in one transaction; more wait for the next batch.
    size_t max_batch = 512;
    // Most writes waiting for the writer; past it Submit refuses at once. Under load beyond
    // what the disk takes, an unbounded queue grows by the arrival rate (each write holding
    // its caller's call open: about a gigabyte within two minutes, measured by the soak) and
    // every caller times out; bounded, the writer keeps committing at its pace and the
    // excess hears UNAVAILABLE, retryable, at once.
    size_t max_pending = 20000;
    // Once a commit leaves at least this many frames (pages) in the WAL, the writer
    // checkpoints after that batch, while its callers hear back: PASSIVE, it copies into the
    // database file what no reader still needs and syncs it, so that the next transaction
    // writes the WAL from its start again. The WAL stays near this size under any load; a
    // checkpoint on another connection never catches up with a writer that commits every
    // millisecond, and the WAL then grows without end. 0: never (tests).
    int checkpoint_frames = 1000;
    // The connection's busy timeout, restored after each attempt of TruncateWal (which turns
    // it off so as never to wait for readers).
    absl::Duration busy_timeout = absl::Seconds(5);
    AfterCommit after_commit;
    // Not owned; must outlive the writer. Null: nobody is told.
    WriterObserver* observer = nullptr;
  };

  // Takes the writer connection and starts the writer and reply threads.
  GroupCommitWriter(std::unique_ptr<SQLite::Database> db, Options options);
  // Finishes every write already submitted and reports it, then stops both threads.
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  // Queues a write; never blocks on the database. With options.max_pending writes already
  // waiting, `done` gets kUnavailable at once and nothing is stored. If the commit of its
  // batch fails (disk
  // full, I/O error, a read-only filesystem, busy past the timeout), `done` gets kUnavailable
  // and nothing of the batch is stored; the writer logs the first failure of a run, with the
  // system's reason, and carries on with the next batch, so it recovers by itself once the
  // cause is gone. After the writer has stopped, `done` gets kUnavailable at once.
  //
  // After each commit, before anyone hears back, the writer checks that the database and WAL
  // files at their paths are still the ones it writes to. If either was deleted or replaced
  // while it ran, the batch and every later write get kUnavailable (OK would promise a lead
  // in a file that no restart will find), and the writer saves what its connection still
  // sees to "<database>.rescued-<unix time>" beside it, and logs what happened and what to do.
  // Thread-safe.
  void Submit(Apply apply, Done done) ABSL_LOCKS_EXCLUDED(mu_);

  // Queues a write that needs no commit of its own: it rides in the next batch that commits
  // anyway, or, if no other write comes within `max_delay`, starts a batch then. For
  // bookkeeping that may lag behind (counters of refused calls), never for a write someone
  // waits on. The destructor still commits it. Failures reach `done` as with Submit. Never
  // blocks on the database. Thread-safe.
  void SubmitLazy(Apply apply, Done done, absl::Duration max_delay) ABSL_LOCKS_EXCLUDED(mu_);

  // Prepared statements on the writer connection, for Apply functions to reuse. Writer thread
  // only (inside an Apply or AfterCommit); every statement is reset after each Apply.
  StatementCache& statements() { return statements_; }

  // Submit, then wait for the result: for callers on threads that may block (never a gRPC
  // reactor). If `held` is not null, it receives how long `apply` itself ran on the writer
  // thread: what the write cost every other write of its batch. Thread-safe.
  absl::Status Run(Apply apply, absl::Duration* held = nullptr);

  // Empties the WAL: once every write committed before the call is in the database file, the
  // writer truncates the WAL to zero bytes (a TRUNCATE checkpoint, after a batch). A PASSIVE
  // checkpoint leaves the WAL's old frames on disk until new frames happen to overwrite them,
  // and those frames are images of pages as they were before an erasure; after this, neither
  // file holds them. It never waits for a reader still reading from the WAL (that would stall
  // every write behind it): it tries again after the next batch, which comes within
  // kTruncateRetry, until an attempt succeeds. Returns OK once the WAL was emptied,
  // kDeadlineExceeded after `timeout` (the writer keeps trying regardless), kUnavailable if
  // the writer is stopping. Blocks: for threads that may block. Thread-safe.
  absl::Status TruncateWal(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);
  static constexpr absl::Duration kTruncateRetry = absl::Milliseconds(5);

 private:
  struct Write {
    Apply apply;
    Done done;
  };

  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !pending_.empty();
  }
  bool HasAnyWriteOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return HasWorkOrStopping() || !lazy_.empty();
  }
  // Waits until a batch is due: a write is pending, the oldest lazy write's deadline has
  // passed, or the writer is stopping. Returns false if there is nothing left to do (stopping).
  bool AwaitBatch(std::deque<Write>* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();
  // Applies and commits one batch, then hands each write's status to the reply thread.
  void CommitBatch(std::deque<Write>& batch);
  // The reply thread: runs the Done functions handed to it, in order, until closed.
  void ReplyLoop() ABSL_LOCKS_EXCLUDED(reply_mu_);
  bool HasRepliesOrClosed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(reply_mu_) {
    return replies_closed_ || !replies_.empty();
  }
  // After a batch: checkpoints if the WAL has grown to options_.checkpoint_frames.
  void MaybeCheckpoint();
  // After a batch: empties the WAL if a TruncateWal call up to `ticket` is waiting for it.
  void MaybeTruncateWal(uint64_t ticket) ABSL_LOCKS_EXCLUDED(mu_);
  // One attempt at emptying the WAL without waiting for readers; true if it is empty.
  bool TryTruncateWal();
  // sqlite3_wal_hook: runs on the writer thread at each commit.
  static int OnWalCommit(void* self, sqlite3* db, const char* schema, int wal_frames);
  // After a commit: OK if the database and WAL files at their paths are the ones written.
  absl::Status CheckFilesInPlace();
  // Once the files were found moved: copies the database as this connection sees it beside
  // the path, empties the WAL into the file this connection has open, and logs it.
  void Rescue();
  // Logs the first of a run of failed commits (with what the data directory shows: read-only,
  // full), and the first success after it.
  void NoteCommitResult(const absl::Status& status);

  // A file's identity, to notice it deleted or replaced under its path.
  struct FileId {
    uint64_t device = 0;
    uint64_t inode = 0;
    bool operator==(const FileId& o) const { return device == o.device && inode == o.inode; }
  };

  const std::unique_ptr<SQLite::Database> db_;  // Used by the writer thread only.
  StatementCache statements_;                   // Declared after db_: closed before it.
  const Options options_;
  int wal_frames_ = 0;              // Frames in the WAL after the last commit. Writer thread only.
  bool checkpoint_failed_ = false;  // The last checkpoint failed (and was logged).
  // Writer thread only, like the rest of this group.
  const std::string db_path_;
  const std::string wal_path_;
  std::optional<FileId> db_file_;   // Seen at start.
  std::optional<FileId> wal_file_;  // Seen at the first commit (SQLite may create it late).
  absl::Status files_moved_;        // Not OK once they were: every later write gets it.
  bool commit_failed_ = false;      // The last commit failed (and was logged).

  absl::Mutex mu_;
  std::deque<Write> pending_ ABSL_GUARDED_BY(mu_);
  // Lazy writes, and when the earliest of them wants its batch at the latest.
  std::deque<Write> lazy_ ABSL_GUARDED_BY(mu_);
  absl::Time lazy_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // TruncateWal calls so far, and how many of them an emptied WAL has answered.
  uint64_t truncations_requested_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t truncations_done_ ABSL_GUARDED_BY(mu_) = 0;

  // Results waiting for the reply thread. A gRPC reply costs about as much as applying the
  // write, so the writer thread hands them over rather than spend its time there.
  struct Reply {
    Done done;
    absl::Status status;
  };
  absl::Mutex reply_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::vector<Reply> replies_ ABSL_GUARDED_BY(reply_mu_);
  bool replies_closed_ ABSL_GUARDED_BY(reply_mu_) = false;  // No more will come.

  std::thread reply_thread_;
  std::thread thread_;
};

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_GROUP_COMMIT_WRITER_H_
