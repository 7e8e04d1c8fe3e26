#include "server/store/connection.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/store/sqlite_status.h"

namespace intake::store {

absl::StatusOr<std::unique_ptr<SQLite::Database>> OpenConnection(const std::string& path,
                                                                 ConnectionRole role,
                                                                 const ConnectionOptions& options) {
  const int flags = role == ConnectionRole::kWriter ? SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE
                                                    : SQLite::OPEN_READWRITE;
  try {
    auto db = std::make_unique<SQLite::Database>(
        path, flags | SQLite::OPEN_NOMUTEX,
        static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
    // journal_mode answers with the mode in force; anything but "wal" means the file cannot
    // give the durability Intake promises (e.g. a read-only or in-memory file).
    const std::string mode = db->execAndGet("PRAGMA journal_mode=WAL").getString();
    if (mode != "wal") {
      return absl::FailedPreconditionError(
          absl::StrFormat("database %s refused WAL mode (journal_mode is %s)", path, mode));
    }
    db->exec("PRAGMA synchronous=FULL");
    db->exec("PRAGMA foreign_keys=ON");
    db->exec("PRAGMA secure_delete=ON");
    // Pages from memory rather than through read(2): the random keys of the intake path
    // (ids, phone hashes) touch index pages all over the file.
    db->exec(role == ConnectionRole::kWriter ? "PRAGMA cache_size=-65536"
                                             : "PRAGMA cache_size=-16384");
    db->exec("PRAGMA mmap_size=1073741824");
    // Temporary files in memory: the statement journal of each write's savepoint in a batch
    // would otherwise spill past 64 KiB to a file in /var/tmp, a write(2) per page on another
    // file system, outside the data dir that erasure and backups reason about.
    db->exec("PRAGMA temp_store=MEMORY");
    if (role == ConnectionRole::kWriter) db->exec("PRAGMA wal_autocheckpoint=0");
    if (role == ConnectionRole::kReader) db->exec("PRAGMA query_only=ON");
    return db;
  } catch (const std::exception& e) {
    return SqliteError(absl::StrCat("opening database ", path), e);
  }
}

}  // namespace intake::store
