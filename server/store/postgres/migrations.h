// Numbered schema migrations for PostgreSQL: the database carries its schema version and
// every start brings it up to the binary's, under an advisory lock, so that replicas starting
// at once migrate exactly once.
//
// The PostgreSQL schema is the SQLite schema (server/store/migrations.cc) in PostgreSQL's
// types, with its own numbering: version 1 is SQLite's version 5 as a whole, because no
// PostgreSQL database predates it. Each later SQLite migration gets its PostgreSQL
// counterpart here, in the same change, so that both backends keep one behaviour.
#ifndef INTAKE_SERVER_STORE_POSTGRES_MIGRATIONS_H_
#define INTAKE_SERVER_STORE_POSTGRES_MIGRATIONS_H_

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "server/store/postgres/connection.h"

namespace intake::store::postgres {

// One schema step: SQL statements without parameters. Versions start at 1 and are dense; a
// landed migration is never edited, only followed by a new one.
struct Migration {
  int version;
  const char* sql;
};

// Intake's PostgreSQL migrations, oldest first.
absl::Span<const Migration> SchemaMigrations();

// Brings the database to the last version in `migrations` in one transaction that first
// takes the kMigration advisory lock: either every pending step is applied and the version
// moves, or nothing changes (PostgreSQL's DDL is transactional). Another replica migrating
// at the same time waits for this one, then finds nothing left to do. A database already at
// the latest version is only read, so a role without CREATE privilege may start on it.
// Returns the version now in force; kFailedPrecondition if the database is newer than
// `migrations` (written by a newer intaked) or a step conflicts with what the database
// holds, kInvalidArgument if `migrations` is not numbered 1..N, kUnavailable if the
// connection fails. Leaves the connection outside any transaction.
absl::StatusOr<int> Migrate(Connection& conn,
                            absl::Span<const Migration> migrations = SchemaMigrations());

// The schema version of the database; 0 for one no migration has touched.
absl::StatusOr<int> SchemaVersion(Connection& conn);

}  // namespace intake::store::postgres

#endif  // INTAKE_SERVER_STORE_POSTGRES_MIGRATIONS_H_
