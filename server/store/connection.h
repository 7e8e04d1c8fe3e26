// server/store: the only place that speaks SQL. SQLite (through SQLiteCpp) holds every lead,
// provider and event; this header opens its connections.
#ifndef INTAKE_SERVER_STORE_CONNECTION_H_
#define INTAKE_SERVER_STORE_CONNECTION_H_

#include <memory>
#include <string>

#include "SQLiteCpp/Database.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace intake::store {

// What a connection is for. There is one writer per database; readers never write.
enum class ConnectionRole { kWriter, kReader };

struct ConnectionOptions {
  // How long a statement waits for a lock held by another connection before failing with
  // SQLITE_BUSY (reported as kUnavailable).
  absl::Duration busy_timeout = absl::Seconds(5);
};

// Opens the database at `path` for `role`; only kWriter may create the file. Every connection
// runs with journal_mode=WAL, synchronous=FULL, foreign_keys=ON and secure_delete=ON, so a
// committed transaction is on disk and deleted PII is overwritten. The writer also turns
// automatic checkpoints off: they would run inside COMMIT, before the batch's callers hear
// back; GroupCommitWriter checkpoints after they have. Readers run with query_only=ON.
//
// Returns kDataLoss if the file is not a SQLite database or is corrupt, kUnavailable if it
// cannot be opened (missing, permissions, I/O). Thread-compatible: a connection is used by
// one thread at a time.
absl::StatusOr<std::unique_ptr<SQLite::Database>> OpenConnection(
    const std::string& path, ConnectionRole role, const ConnectionOptions& options = {});

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_CONNECTION_H_
