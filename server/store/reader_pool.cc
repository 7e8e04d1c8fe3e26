#include "server/store/reader_pool.h"

#include <utility>

namespace intake::store {

absl::StatusOr<std::unique_ptr<SQLite::Database>> ReaderPool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      std::unique_ptr<SQLite::Database> db = std::move(idle_.back());
      idle_.pop_back();
      return db;
    }
  }
  return OpenConnection(path_, ConnectionRole::kReader, options_);
}

void ReaderPool::Release(std::unique_ptr<SQLite::Database> db) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(std::move(db));
}

}  // namespace intake::store
