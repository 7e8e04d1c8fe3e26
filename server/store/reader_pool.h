// Read-only connections for queries, so reads never wait behind the writer (WAL lets them
// run beside it).
#ifndef INTAKE_SERVER_STORE_READER_POOL_H_
#define INTAKE_SERVER_STORE_READER_POOL_H_

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/store/connection.h"
#include "server/store/sqlite_status.h"

namespace intake::store {

class ReaderPool {
 public:
  ReaderPool(std::string path, ConnectionOptions options)
      : path_(std::move(path)), options_(options) {}

  // Runs `query(db)` on a reader connection (kept for reuse afterwards) and returns its
  // result. SQLite exceptions become statuses (see SqliteError). Blocks on SQLite: call it
  // from threads that may block, never from a gRPC reactor. Thread-safe.
  template <typename Query>
  auto With(Query query) -> decltype(query(std::declval<SQLite::Database&>())) {
    absl::StatusOr<std::unique_ptr<SQLite::Database>> db = Acquire();
    if (!db.ok()) return db.status();
    try {
      auto result = query(**db);
      Release(*std::move(db));
      return result;
    } catch (const std::exception& e) {
      Release(*std::move(db));
      return SqliteError("reading", e);
    }
  }

 private:
  absl::StatusOr<std::unique_ptr<SQLite::Database>> Acquire() ABSL_LOCKS_EXCLUDED(mu_);
  void Release(std::unique_ptr<SQLite::Database> db) ABSL_LOCKS_EXCLUDED(mu_);

  const std::string path_;
  const ConnectionOptions options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<SQLite::Database>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_READER_POOL_H_
