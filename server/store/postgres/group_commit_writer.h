// The one thread of a replica that writes to PostgreSQL: it gathers every pending write
// into one transaction, commits once (one WAL flush for the batch), and only then reports
// each result. The PostgreSQL counterpart of server/store/group_commit_writer.h, with what
// sharing the database with other replicas adds: locks taken in one order (locks.h), events
// numbered at commit (event_log.h), and a connection that may be lost and is then replaced.
//
// A batch is one round trip per statement its writes run, plus one: each write's savepoint
// (and the release of the previous one) travels with its first statement, and the batch's
// events, their notification and COMMIT travel together at the end (libpq pipeline mode).
#ifndef INTAKE_SERVER_STORE_POSTGRES_GROUP_COMMIT_WRITER_H_
#define INTAKE_SERVER_STORE_POSTGRES_GROUP_COMMIT_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/domain/lead.h"
#include "server/store/postgres/connection.h"

namespace intake::store::postgres {

class GroupCommitWriter;

// One write's view of the batch transaction, inside a savepoint of its own. Writer thread
// only; valid during the Apply it is passed to.
class WriteTxn {
 public:
  WriteTxn(const WriteTxn&) = delete;
  WriteTxn& operator=(const WriteTxn&) = delete;

  // Runs one statement in this write's savepoint. After a failed statement the transaction
  // is aborted until the write either returns an error (its savepoint is rolled back and it
  // fails alone) or calls Restart. kUnavailable once the batch itself has failed (the
  // connection was lost, say): the write should return at once.
  absl::StatusOr<Result> Exec(absl::string_view sql, absl::Span<const Param> params = {});

  // Runs `queries` in one round trip (Connection::ExecAll), in this write's savepoint.
  // Failures as Exec.
  absl::StatusOr<std::vector<Result>> ExecAll(std::vector<Query> queries);

  // Undoes everything this write did so far (its savepoint is rolled back, with its events)
  // so that it can try again: after losing a race on a unique key to another replica, say,
  // and reading the winner's row.
  void Restart();

  // Appends an event to the log (its sequence field ignored): numbered when the batch
  // commits, after every event of the batch's earlier writes; dropped if this write fails.
  void AppendEvent(LeadEvent event);

  // The events the batch's earlier writes appended, not yet in lead_events (a write that
  // reads the log must add these to what it reads).
  absl::Span<const LeadEvent> batch_events() const { return batch_events_; }

  // Adds `delta` to the counter `name` (a row of the counters table) when the batch commits;
  // dropped if this write fails. Counters are written with the batch's events, just before
  // them: every write of every replica bumps the same few rows, and a row lock taken in the
  // middle of a batch would break the lock order (locks.h) against a later write's routing
  // lock.
  void AddToCounter(const std::string& name, int64_t delta) { counters_[name] += delta; }

 private:
  friend class GroupCommitWriter;
  WriteTxn(Connection& conn, std::vector<Query>& prelude,
           const std::vector<LeadEvent>& batch_events)
      : conn_(conn), prelude_(prelude), batch_events_(batch_events) {}

  Connection& conn_;
  // Statements to send before this write's next one: the batch's BEGIN and locks, the
  // previous write's release, this write's savepoint.
  std::vector<Query>& prelude_;
  const std::vector<LeadEvent>& batch_events_;
  std::vector<LeadEvent> events_;            // This write's.
  std::map<std::string, int64_t> counters_;  // This write's.
  bool in_savepoint_ = false;                // SAVEPOINT w has been sent.
  bool aborted_ = false;                     // A statement failed and no Restart followed.
  absl::Status batch_failure_;               // Set once the batch cannot commit.
};

class GroupCommitWriter {
 public:
  // Runs inside the batch transaction, in a savepoint of its own: returning an error undoes
  // this write alone. Runs on the writer thread.
  using Apply = absl::AnyInvocable<absl::Status(WriteTxn&) &&>;
  // Receives the write's final status once its batch has committed (or failed): OK means the
  // write is committed, flushed to this server's WAL (and to synchronous standbys, if the
  // server has any). Runs on the writer thread, so it must not block.
  using Done = absl::AnyInvocable<void(absl::Status) &&>;
  // Runs on the writer thread after each commit that appended events, before the batch's
  // Done calls, with the new head and the providers addressed ("" for unassigned leads).
  using AfterCommit = std::function<void(uint64_t head, const std::vector<std::string>& providers)>;

  struct Options {
    // libpq URI of the database (Connection::Open).
    std::string conninfo;
    // Most writes in one transaction; more wait for the next batch. 64 because every write
    // that changes rows gives its savepoint a subtransaction id, and a transaction with more
    // than 64 of them overflows PostgreSQL's per-backend cache of them: every other session's
    // snapshot then has to consult pg_subtrans for visibility checks, on every replica.
    size_t max_batch = 64;
    // How long a statement waits for a lock (another replica's batch holding a dedup key or
    // the routing lock) before its write fails with kUnavailable.
    absl::Duration lock_timeout = absl::Seconds(5);
    // How long the server lets this replica's transaction sit idle before ending it: a frozen
    // replica must not hold the locks every other replica needs.
    absl::Duration idle_in_transaction_timeout = absl::Seconds(5);
    // After failing to reconnect, batches fail at once (kUnavailable, so callers retry on
    // another replica) for this long before the next attempt: an unreachable server costs
    // one connection timeout per interval, not one per batch.
    absl::Duration reconnect_delay = absl::Seconds(1);
    AfterCommit after_commit;
  };

  // Connects (the session is named "intaked-writer") and starts the thread. kUnavailable if
  // the database cannot be reached, kInvalidArgument for a malformed conninfo.
  static absl::StatusOr<std::unique_ptr<GroupCommitWriter>> Start(Options options);
  // Finishes every write already submitted, then stops the thread and disconnects.
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  // Queues a write; never blocks on the database. `lock_keys` are the DedupLockKeys the
  // write will rely on: the batch takes all of its writes' keys at its start, in ascending
  // order (locks.h), and holds them until it ends. `done` gets kUnavailable, and nothing of
  // the batch is stored, if the batch fails as a whole: the connection is lost (the next
  // batch reconnects), a lock wait times out, the server refuses the COMMIT. If the
  // connection is lost during the COMMIT itself, whether the batch was committed is unknown
  // and `done` also gets kUnavailable: a retry must be idempotent (a request_id). After the
  // writer has stopped, `done` gets kUnavailable at once.
  //
  // `committed_first` are statements the write needs committed before it runs, which must not
  // wait inside the batch: each runs on its own, committed at once, before the batch's
  // BEGIN, so that waiting on another replica's row it holds none of the batch's locks (a
  // brand-new row that two replicas' batches both insert would otherwise have each wait for
  // the other). They must be idempotent (INSERT ... ON CONFLICT DO NOTHING): they also run
  // for a write that then fails, and again for its retry. If one fails, so does the batch.
  // Thread-safe.
  void Submit(Apply apply, Done done, std::vector<int64_t> lock_keys = {},
              std::vector<Query> committed_first = {}) ABSL_LOCKS_EXCLUDED(mu_);

  // Submit, then wait for the result: for callers on threads that may block (never a gRPC
  // reactor). Thread-safe.
  absl::Status Run(Apply apply, std::vector<int64_t> lock_keys = {});

 private:
  struct Write {
    Apply apply;
    Done done;
    std::vector<int64_t> lock_keys;
    std::vector<Query> committed_first;
  };

  GroupCommitWriter(Options options, std::unique_ptr<Connection> conn);
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !pending_.empty();
  }
  void Loop();
  // Applies and commits one batch, then reports each write's status.
  void CommitBatch(std::deque<Write>& batch);
  // Applies and commits `batch` into `results`; returns the batch's own failure, if any.
  absl::Status ApplyAndCommit(std::deque<Write>& batch, std::vector<absl::Status>& results);

  const Options options_;
  // Writer thread only: the connection (replaced once lost), and the last failure to
  // reconnect with when the next attempt is due.
  std::unique_ptr<Connection> conn_;
  absl::Status reconnect_failure_;
  absl::Time next_reconnect_ = absl::InfinitePast();

  absl::Mutex mu_;
  std::deque<Write> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::thread thread_;
};

// Opens a connection set up as the writer's: named "intaked-writer", READ COMMITTED whatever
// the database's default (a batch reads what other replicas committed while it waited for a
// lock), synchronous_commit at least `on` (a database default of `off` is overridden; a
// stronger one such as remote_apply is kept), and the writer's lock and idle timeouts.
absl::StatusOr<std::unique_ptr<Connection>> OpenWriterConnection(
    const GroupCommitWriter::Options& options);

}  // namespace intake::store::postgres

#endif  // INTAKE_SERVER_STORE_POSTGRES_GROUP_COMMIT_WRITER_H_
