// Numbered schema migrations: the database carries its schema version and every start brings
// it up to the binary's.
#ifndef INTAKE_SERVER_STORE_MIGRATIONS_H_
#define INTAKE_SERVER_STORE_MIGRATIONS_H_

#include "SQLiteCpp/Database.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace intake::store {

// One schema step. Versions start at 1 and are dense; a landed migration is never edited,
// only followed by a new one.
struct Migration {
  int version;
  const char* sql;
};

// Intake's migrations, oldest first.
absl::Span<const Migration> SchemaMigrations();

// Brings `db` to the last version in `migrations` inside one IMMEDIATE transaction: either
// every pending step is applied and the schema_version row moves, or nothing changes.
// Returns the version now in force. Returns kFailedPrecondition if the database is newer
// than `migrations` (written by a newer intaked), kInvalidArgument if `migrations` is not
// numbered 1..N, or the store's mapping of a SQLite failure.
absl::StatusOr<int> Migrate(SQLite::Database& db,
                            absl::Span<const Migration> migrations = SchemaMigrations());

// The schema version `db` is at; 0 for a database no migration has touched.
absl::StatusOr<int> SchemaVersion(SQLite::Database& db);

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_MIGRATIONS_H_
