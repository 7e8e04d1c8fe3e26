// The lead event log on PostgreSQL, shared by every replica: sequence numbers that follow
// commit order with no gaps, so that a stream resumed from any cursor on any replica misses
// nothing.
//
// The problem. A `bigserial` hands out numbers when rows are inserted, not when their
// transactions commit. Replica A takes 41, replica B takes 42 and commits first; a stream
// reading then sees 42 and moves its cursor past 41, and when A commits, 41 is behind every
// cursor that read 42: lost for good (the outbox ordering problem).
//
// Two designs avoid it:
// (a) Number at commit, serially. A writer keeps its batch's events in memory and, as the
//     batch's last statement before COMMIT, adds their count to the one row of
//     lead_event_head and inserts them numbered (old head, new head], queueing the NOTIFY in
//     the same statement (AppendEventsQuery). The UPDATE holds that row's lock until the
//     transaction ends, so another replica's batch reaching the same statement waits until
//     this one has committed, and PostgreSQL releases the lock only after the commit is
//     visible to new snapshots. Hence a higher sequence never becomes visible before a lower
//     one: every snapshot sees a prefix of the log, and a reader needs nothing but
//     `sequence > cursor`. A rolled-back batch rolls its increment back too: the next batch
//     takes the same numbers, which no one ever saw, so the log has no gaps at all.
// (b) Number at insert (a sequence) and let readers see only events below the oldest writer
//     transaction still in flight (by an xid8 column against pg_snapshot_xmin, or a registry
//     of in-flight writers). Commits may then overlap, but every read must compute that
//     horizon, the horizon counts every transaction in the cluster (one long report, backup
//     or stuck session holds every stream of every replica back), aborted transactions
//     leave holes that readers must learn to step over, and the visibility rules that make
//     it correct live in every reader rather than in one writer statement.
// Intake uses (a): it is correct by construction, with a single integer cursor and plain
// reads, which matters more than anything (b) buys. Its cost is that event-writing commits
// are serial across the fleet: each batch holds the head row for one statement and its
// COMMIT's WAL flush, so the fleet commits at most one such batch per flush. Group commit is
// what makes that cheap: while a replica waits, its next batch grows, so throughput is batch
// size over flush time, and a submission waits at most one flush per other replica. That is
// far above the few leads a second of a busy helpline network (measured figures in the
// report of issue 17; `pg_event_log_bench` gives them). The head row is the last lock a
// transaction takes (locks.h), so waiting for it never closes a deadlock cycle.
//
// Wake-ups ride on the same statement: the NOTIFY on kEventsChannel carries the numbered
// range and the providers addressed. PostgreSQL delivers notifications in commit order,
// which under (a) is sequence order, so every replica's listener sees the head only grow.
#ifndef INTAKE_SERVER_STORE_POSTGRES_EVENT_LOG_H_
#define INTAKE_SERVER_STORE_POSTGRES_EVENT_LOG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/domain/lead.h"
#include "server/store/postgres/connection.h"

namespace intake::store::postgres {

// The channel of event notifications (see EventsNotification).
inline constexpr absl::string_view kEventsChannel = "intake_events";

// What one commit appended, as its notification tells it.
struct EventsNotification {
  uint64_t first = 0;  // Sequences first..last were committed together.
  uint64_t last = 0;
  // The providers the events are addressed to, each once ("" for events of unassigned
  // leads); nullopt when there were too many to fit a notification: read them from the log.
  std::optional<std::vector<std::string>> providers;
};

// Parses a notification's payload; nullopt if it is not one AppendEventsQuery makes.
std::optional<EventsNotification> ParseEventsNotification(absl::string_view payload);

// The statement that appends `events` (their sequence fields ignored) to the log, numbered
// from the current head in their order, and queues their notification. It must be a
// transaction's last statement before COMMIT, sent with it in one round trip, because it
// holds the head row (and so every other replica's commit of events) until the transaction
// ends. Its result is read by AppendedHead. `events` must not be empty.
Query AppendEventsQuery(absl::Span<const LeadEvent> events);

// The statements that move providers.last_assigned_us (what rotation's "assigned a lead least
// recently" reads) for the ASSIGNED events among `events`: every path that assigns a lead
// appends one, so none can forget the stamp. Each provider's stamp lands above every stamp
// in the table and follows the order of its newest assignment in `events`, whatever this
// replica's clock says. The batch sends them at its end, before its counters and events:
// they lock the providers' rows, in id order (locks.h). Empty when `events` assigns nothing.
std::vector<Query> StampAssignedQueries(absl::Span<const LeadEvent> events);

// The last sequence an AppendEventsQuery result numbered (the new head). kInternal for a
// result of another statement.
absl::StatusOr<uint64_t> AppendedHead(const Result& result);

// The sequence of the newest committed event (0 for none). Never blocks on writers.
absl::StatusOr<uint64_t> HeadSequence(Connection& conn);

// Up to `limit` events with sequence > `after`, in order; only those addressed to
// `provider_id` unless it is empty. Every read sees a prefix of the log: an event not
// returned now has a sequence above every one returned.
absl::StatusOr<std::vector<LeadEvent>> ReadEvents(Connection& conn, uint64_t after,
                                                  absl::string_view provider_id, int limit);

// The providers addressed by the events with after < sequence <= upto, each once ("" for
// unassigned leads).
absl::StatusOr<std::vector<std::string>> ProvidersBetween(Connection& conn, uint64_t after,
                                                          uint64_t upto);

}  // namespace intake::store::postgres

#endif  // INTAKE_SERVER_STORE_POSTGRES_EVENT_LOG_H_
