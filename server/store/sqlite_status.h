// Translation of SQLite failures into absl::Status, so no SQLite::Exception leaves server/store.
#ifndef INTAKE_SERVER_STORE_SQLITE_STATUS_H_
#define INTAKE_SERVER_STORE_SQLITE_STATUS_H_

#include <exception>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace intake::store {

// Maps the exception thrown by SQLiteCpp while doing `what` to a status by its meaning:
// busy/locked, I/O errors and a full disk are kUnavailable (the caller may retry), a corrupt
// file is kDataLoss, anything else kInternal. The message names `what` and SQLite's own
// error text, which never contains bound parameter values.
absl::Status SqliteError(absl::string_view what, const std::exception& e);

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_SQLITE_STATUS_H_
