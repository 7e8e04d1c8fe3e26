#include "server/store/sqlite_status.h"

#include <sqlite3.h>

#include "SQLiteCpp/Exception.h"
#include "absl/strings/str_cat.h"

namespace intake::store {

absl::Status SqliteError(absl::string_view what, const std::exception& e) {
  const auto* sqlite = dynamic_cast<const SQLite::Exception*>(&e);
  const std::string message = absl::StrCat(what, ": ", e.what());
  if (sqlite == nullptr) return absl::InternalError(message);
  switch (sqlite->getErrorCode()) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return absl::UnavailableError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace intake::store
