// Prepared statements kept for reuse on one connection: compiling SQL costs more than running
// the small statements of the intake path.
#ifndef INTAKE_SERVER_STORE_STATEMENT_CACHE_H_
#define INTAKE_SERVER_STORE_STATEMENT_CACHE_H_

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace intake::store {

// Thread-compatible: used by the one thread that owns the connection.
class StatementCache {
 public:
  explicit StatementCache(SQLite::Database& db) : db_(db) {}

  // The statement for `sql`, reset and with no bindings, compiled on first use. Throws
  // SQLite::Exception like SQLite::Statement. The reference stays valid for the cache's life.
  // A statement stays active until the next Get of it or ResetAll.
  SQLite::Statement& Get(const char* sql) {
    // Callers pass string literals: found by address first, which costs nothing next to
    // hashing the text; the text is still compared, so a reused address never finds a wrong
    // statement.
    SQLite::Statement* stmt;
    if (auto hit = by_address_.find(sql);
        hit != by_address_.end() && hit->second->getQuery() == sql) {
      stmt = hit->second;
    } else {
      stmt = Find(sql);
      by_address_[sql] = stmt;
    }
    stmt->reset();
    stmt->clearBindings();
    if (std::find(used_.begin(), used_.end(), stmt) == used_.end()) used_.push_back(stmt);
    return *stmt;
  }

  // Resets every statement handed out since the last call, so none holds a read open past the
  // caller's unit of work.
  void ResetAll() {
    for (SQLite::Statement* stmt : used_) stmt->tryReset();
    used_.clear();
  }

 private:
  // The statement for `sql`, compiled on first use.
  SQLite::Statement* Find(absl::string_view sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second.get();
    // Prepared before it is cached, so a failed prepare leaves no empty entry behind.
    auto prepared = std::make_unique<SQLite::Statement>(db_, std::string(sql));
    return statements_.emplace(std::string(sql), std::move(prepared)).first->second.get();
  }

  SQLite::Database& db_;
  absl::flat_hash_map<std::string, std::unique_ptr<SQLite::Statement>> statements_;
  absl::flat_hash_map<const char*, SQLite::Statement*> by_address_;
  std::vector<SQLite::Statement*> used_;  // Since the last ResetAll; a handful at most.
};

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_STATEMENT_CACHE_H_
