// Prepared statements kept for reuse on one connection: compiling SQL costs more than running
// the small statements of the intake path.
#ifndef INTAKE_SERVER_STORE_STATEMENT_CACHE_H_
#define INTAKE_SERVER_STORE_STATEMENT_CACHE_H_

#include <memory>
#include <string>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/container/flat_hash_map.h"

namespace intake::store {

// Thread-compatible: used by the one thread that owns the connection.
class StatementCache {
 public:
  explicit StatementCache(SQLite::Database& db) : db_(db) {}

  // The statement for `sql`, reset and with no bindings, compiled on first use. Throws
  // SQLite::Exception like SQLite::Statement. The reference stays valid for the cache's life.
  // A statement stays active until the next Get of it or ResetAll.
  SQLite::Statement& Get(const char* sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      // Prepared before it is cached, so a failed prepare leaves no empty entry behind.
      auto stmt = std::make_unique<SQLite::Statement>(db_, sql);
      return *statements_.emplace(sql, std::move(stmt)).first->second;
    }
    it->second->reset();
    it->second->clearBindings();
    return *it->second;
  }

  // Resets every statement, so none holds a read open past the caller's unit of work.
  void ResetAll() {
    for (auto& [sql, stmt] : statements_) stmt->tryReset();
  }

 private:
  SQLite::Database& db_;
  absl::flat_hash_map<std::string, std::unique_ptr<SQLite::Statement>> statements_;
};

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_STATEMENT_CACHE_H_
