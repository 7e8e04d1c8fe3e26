#include "server/store/checkpointer.h"

#include <exception>
#include <utility>

namespace intake::store {

Checkpointer::Checkpointer(std::unique_ptr<SQLite::Database> db, absl::Duration interval)
    : db_(std::move(db)), interval_(interval), thread_([this] {
        while (!stop_.WaitForNotificationWithTimeout(interval_)) Checkpoint();
        Checkpoint();
      }) {}

Checkpointer::~Checkpointer() {
  stop_.Notify();
  thread_.join();
}

void Checkpointer::Checkpoint() {
  try {
    db_->exec("PRAGMA wal_checkpoint(PASSIVE)");
  } catch (const std::exception&) {
    // Busy or failing I/O: the WAL keeps every commit safe meanwhile; try again next time.
  }
}

}  // namespace intake::store
