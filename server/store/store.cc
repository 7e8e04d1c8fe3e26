#include "server/store/store.h"

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/domain/status_macros.h"
#include "server/store/migrations.h"
#include "server/store/sqlite_status.h"

namespace intake::store {

Store::Store(std::string path, std::unique_ptr<SQLite::Database> writer, std::string instance_id,
             int schema_version)
    : path_(std::move(path)),
      writer_(std::move(writer)),
      instance_id_(std::move(instance_id)),
      schema_version_(schema_version) {}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                                   const ConnectionOptions& options) {
  INTAKE_ASSIGN_OR_RETURN(std::unique_ptr<SQLite::Database> writer,
                          OpenConnection(path, ConnectionRole::kWriter, options));
  absl::StatusOr<int> version = Migrate(*writer);
  if (!version.ok()) {
    return absl::Status(version.status().code(),
                        absl::StrCat("database ", path, ": ", version.status().message()));
  }
  std::string instance_id;
  try {
    instance_id = writer->execAndGet("SELECT instance_id FROM instance").getString();
  } catch (const std::exception& e) {
    return SqliteError(absl::StrCat("reading the identity of database ", path), e);
  }
  return std::unique_ptr<Store>(
      new Store(path, std::move(writer), std::move(instance_id), *version));
}

}  // namespace intake::store
