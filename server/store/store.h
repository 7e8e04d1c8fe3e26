// The SQLite store as the rest of intaked sees it: opened once at start-up, migrated, and
// the owner of every connection to the database file.
#ifndef INTAKE_SERVER_STORE_STORE_H_
#define INTAKE_SERVER_STORE_STORE_H_

#include <memory>
#include <string>

#include "SQLiteCpp/Database.h"
#include "absl/status/statusor.h"
#include "server/store/connection.h"

namespace intake::store {

class Store {
 public:
  // Opens (creating it if missing) the database at `path` and migrates it to this binary's
  // schema. Returns kFailedPrecondition for a database newer than this binary, kDataLoss for
  // a file that is not an Intake database, kUnavailable if it cannot be opened.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     const ConnectionOptions& options = {});

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The database's random identity, fixed when it was created.
  const std::string& instance_id() const { return instance_id_; }
  int schema_version() const { return schema_version_; }
  const std::string& path() const { return path_; }

 private:
  Store(std::string path, std::unique_ptr<SQLite::Database> writer, std::string instance_id,
        int schema_version);

  const std::string path_;
  const std::unique_ptr<SQLite::Database> writer_;
  const std::string instance_id_;
  const int schema_version_;
};

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_STORE_H_
