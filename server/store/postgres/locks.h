// The advisory locks intaked takes on PostgreSQL, and the one order every transaction takes
// its locks in, so that replicas never deadlock on them.
//
// Lock order within a transaction:
//   1. kMigration (schema changes only; nothing else in that transaction).
//   2. Dedup keys (DedupLockKey), all of a batch at its start, in ascending key order.
//   3. kRouting, by a write that routes a lead by rotation.
//   4. Row locks taken by the writes' statements.
//   4a. The providers rows of the batch's ASSIGNED events, in id order, at the batch's end
//      (StampAssignedQueries): every batch that assigns leads stamps them, so stamping each
//      in its write would lock them in assignment order, and two replicas assigning to acme
//      and beta in opposite orders would deadlock.
//   4b. The counters rows the batch's writes add to, in name order, at the batch's end
//      (WriteTxn::AddToCounter).
//   5. The event log's head row (event_log.h), by the batch's last statement before COMMIT.
// The head row comes last because it serialises the commits of every replica: it is held
// only for that statement and the COMMIT's WAL flush. A lock taken out of this order (a row
// lock before a dedup key, say) can deadlock with another replica; PostgreSQL then cancels
// one statement after deadlock_timeout (40P01, reported as kUnavailable) and the write that
// ran it fails alone, its savepoint rolled back.
#ifndef INTAKE_SERVER_STORE_POSTGRES_LOCKS_H_
#define INTAKE_SERVER_STORE_POSTGRES_LOCKS_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace intake::store::postgres {

// Two-key advisory locks (pg_advisory_xact_lock(int4, int4)) under Intake's class, a key
// space apart from the one-key (bigint) locks that dedup keys use.
inline constexpr int32_t kLockClass = 0x494e544b;  // "INTK"
// Serialises schema migrations: replicas starting at once migrate exactly once.
inline constexpr int32_t kMigrationLock = 1;
// Serialises rotation routing across replicas: each sees the last assignment of the others,
// so least-recently-assigned stays fair.
inline constexpr int32_t kRoutingLock = 2;

// The one-key advisory lock that serialises dedup of `phone_hash` for `target` across
// replicas: the 64 first bits of a BLAKE2b hash of both. Two submissions of one phone and
// target always get the same key; a collision between different ones only makes them wait
// for each other.
int64_t DedupLockKey(absl::string_view phone_hash, absl::string_view target);

}  // namespace intake::store::postgres

#endif  // INTAKE_SERVER_STORE_POSTGRES_LOCKS_H_
