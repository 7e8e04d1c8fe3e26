#include "server/store/postgres/group_commit_writer.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "server/store/postgres/event_log.h"

namespace intake::store::postgres {
namespace {

// READ COMMITTED explicitly: under REPEATABLE READ (a possible database default) a statement
// after a lock wait would read the snapshot from before it, and miss the lead another
// replica committed meanwhile.
constexpr char kBegin[] = "BEGIN ISOLATION LEVEL READ COMMITTED";

std::string Millis(absl::Duration d) { return absl::StrCat(absl::ToInt64Milliseconds(d)); }

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> OpenWriterConnection(
    const GroupCommitWriter::Options& options) {
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      Connection::Open(options.conninfo, "intaked-writer");
  if (!conn.ok()) return conn.status();
  absl::Status set = (*conn)->ExecScript(absl::StrCat(
      "SET lock_timeout = ", Millis(options.lock_timeout),
      "; SET idle_in_transaction_session_timeout = ", Millis(options.idle_in_transaction_timeout)));
  if (!set.ok()) return set;
  // Any value but `off` waits at least for this server's WAL flush.
  absl::StatusOr<Result> sync = (*conn)->Exec("SELECT current_setting('synchronous_commit')");
  if (!sync.ok()) return sync.status();
  if (sync->Text(0, 0) == "off") {
    if (absl::Status on = (*conn)->ExecScript("SET synchronous_commit = on"); !on.ok()) return on;
  }
  return conn;
}

absl::StatusOr<Result> WriteTxn::Exec(absl::string_view sql, absl::Span<const Param> params) {
  std::vector<Query> queries;
  queries.push_back(Query{std::string(sql), std::vector<Param>(params.begin(), params.end())});
  absl::StatusOr<std::vector<Result>> results = ExecAll(std::move(queries));
  if (!results.ok()) return results.status();
  return std::move(results->back());
}

absl::StatusOr<std::vector<Result>> WriteTxn::ExecAll(std::vector<Query> queries) {
  if (!batch_failure_.ok()) return batch_failure_;
  if (aborted_) {
    return absl::FailedPreconditionError(
        "a statement of this write failed: return an error or Restart first");
  }
  if (!in_savepoint_) prelude_.push_back(Query{"SAVEPOINT w", {}});
  const size_t own = prelude_.size();
  queries.insert(queries.begin(), std::make_move_iterator(prelude_.begin()),
                 std::make_move_iterator(prelude_.end()));
  prelude_.clear();
  in_savepoint_ = true;
  size_t failed = 0;
  absl::StatusOr<std::vector<Result>> results = conn_.ExecAll(queries, &failed);
  if (results.ok()) {
    results->erase(results->begin(), results->begin() + static_cast<std::ptrdiff_t>(own));
    return results;
  }
  if (failed < own || !conn_.ok()) {
    // The batch's own statements failed (its locks timed out, the connection is gone): no
    // write of it can commit.
    batch_failure_ = absl::UnavailableError(results.status().message());
    return batch_failure_;
  }
  aborted_ = true;
  return results.status();
}

void WriteTxn::Restart() {
  events_.clear();
  counters_.clear();
  if (!in_savepoint_) return;
  prelude_.push_back(Query{"ROLLBACK TO w", {}});
  aborted_ = false;
}

void WriteTxn::AppendEvent(LeadEvent event) { events_.push_back(std::move(event)); }

GroupCommitWriter::GroupCommitWriter(Options options, std::unique_ptr<Connection> conn)
    : options_(std::move(options)), conn_(std::move(conn)) {
  thread_ = std::thread([this] { Loop(); });
}

absl::StatusOr<std::unique_ptr<GroupCommitWriter>> GroupCommitWriter::Start(Options options) {
  absl::StatusOr<std::unique_ptr<Connection>> conn = OpenWriterConnection(options);
  if (!conn.ok()) return conn.status();
  return std::unique_ptr<GroupCommitWriter>(
      new GroupCommitWriter(std::move(options), *std::move(conn)));
}

GroupCommitWriter::~GroupCommitWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void GroupCommitWriter::Submit(Apply apply, Done done, std::vector<int64_t> lock_keys,
                               std::vector<Query> committed_first) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      pending_.push_back(Write{std::move(apply), std::move(done), std::move(lock_keys),
                               std::move(committed_first)});
      return;
    }
  }
  std::move(done)(absl::UnavailableError("the database writer has stopped"));
}

absl::Status GroupCommitWriter::Run(Apply apply, std::vector<int64_t> lock_keys) {
  absl::Notification finished;
  absl::Status result;
  Submit(
      std::move(apply),
      [&](absl::Status s) {
        result = std::move(s);
        finished.Notify();
      },
      std::move(lock_keys));
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
  if (conn_ == nullptr || !conn_->ok()) {
    conn_.reset();
    if (absl::Now() < next_reconnect_) {
      batch_status = reconnect_failure_;
    } else {
      absl::StatusOr<std::unique_ptr<Connection>> conn = OpenWriterConnection(options_);
      if (conn.ok()) {
        conn_ = *std::move(conn);
      } else {
        batch_status = reconnect_failure_ = conn.status();
        next_reconnect_ = absl::Now() + options_.reconnect_delay;
      }
    }
  }
  if (batch_status.ok()) batch_status = ApplyAndCommit(batch, results);
  for (size_t i = 0; i < batch.size(); ++i) {
    std::move(batch[i].done)(batch_status.ok() ? std::move(results[i])
                                               : absl::UnavailableError(batch_status.message()));
  }
}

absl::Status GroupCommitWriter::ApplyAndCommit(std::deque<Write>& batch,
                                               std::vector<absl::Status>& results) {
  for (const Write& w : batch) {
    for (const Query& q : w.committed_first) {
      // Outside any transaction: committed before the next statement is sent.
      absl::Status committed = conn_->Exec(q.sql, q.params).status();
      if (!committed.ok()) return committed;
    }
  }
  std::vector<Query> prelude = {{kBegin, {}}};
  std::vector<int64_t> keys;
  for (const Write& w : batch) keys.insert(keys.end(), w.lock_keys.begin(), w.lock_keys.end());
  if (!keys.empty()) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    // unnest yields the array in order, and each lock is taken as its row is produced.
    prelude.push_back(Query{"SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k",
                            {absl::StrCat("{", absl::StrJoin(keys, ","), "}")}});
  }
  std::vector<LeadEvent> events;
  std::map<std::string, int64_t> counters;  // In name order: the order their rows are locked.
  absl::Status failure;
  for (size_t i = 0; i < batch.size() && failure.ok(); ++i) {
    WriteTxn txn(*conn_, prelude, events);
    absl::Status status = std::move(batch[i].apply)(txn);
    failure = txn.batch_failure_;
    if (status.ok() && txn.aborted_) {
      status = absl::InternalError("a write ignored the failure of one of its statements");
    }
    if (txn.in_savepoint_) {
      if (!status.ok()) prelude.push_back(Query{"ROLLBACK TO w", {}});
      prelude.push_back(Query{"RELEASE w", {}});
    }
    if (status.ok()) {
      events.insert(events.end(), std::make_move_iterator(txn.events_.begin()),
                    std::make_move_iterator(txn.events_.end()));
      for (const auto& [name, delta] : txn.counters_) counters[name] += delta;
    }
    results[i] = std::move(status);
  }
  if (failure.ok()) {
    for (Query& stamp : StampAssignedQueries(events)) prelude.push_back(std::move(stamp));
    for (const auto& [name, delta] : counters) {
      if (delta == 0) continue;
      prelude.push_back(
          Query{"UPDATE counters SET value = value + $1 WHERE name = $2", {delta, name}});
    }
    if (!events.empty()) prelude.push_back(AppendEventsQuery(events));
    prelude.push_back(Query{"COMMIT", {}});
    absl::StatusOr<std::vector<Result>> committed = conn_->ExecAll(prelude);
    if (!committed.ok()) {
      failure = committed.status();
    } else if (committed->back().command() != "COMMIT") {
      failure = absl::UnavailableError("the server rolled the batch back at COMMIT");
    } else if (!events.empty() && options_.after_commit) {
      absl::StatusOr<uint64_t> head = AppendedHead((*committed)[committed->size() - 2]);
      if (head.ok()) {
        std::vector<std::string> providers;
        absl::flat_hash_set<absl::string_view> seen;
        for (const LeadEvent& e : events) {
          if (seen.insert(e.provider_id).second) providers.push_back(e.provider_id);
        }
        options_.after_commit(*head, providers);
      }
    }
  }
  if (!failure.ok() && conn_->ok()) {
    // End whatever transaction the failure left open (none if COMMIT itself failed).
    conn_->ExecScript("ROLLBACK").IgnoreError();
  }
  return failure;
}

}  // namespace intake::store::postgres
