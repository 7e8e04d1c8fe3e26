// WAL checkpoints off the request path: the writer's connection never checkpoints (so no
// submission waits on one); this thread does, on its own connection.
#ifndef INTAKE_SERVER_STORE_CHECKPOINTER_H_
#define INTAKE_SERVER_STORE_CHECKPOINTER_H_

#include <memory>
#include <thread>

#include "SQLiteCpp/Database.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace intake::store {

class Checkpointer {
 public:
  // Runs a PASSIVE checkpoint on `db` every `interval` until destroyed. PASSIVE never waits
  // for readers or the writer; what it cannot copy now it copies next time.
  Checkpointer(std::unique_ptr<SQLite::Database> db, absl::Duration interval);
  // Stops the thread after a last checkpoint.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  void Checkpoint();

  const std::unique_ptr<SQLite::Database> db_;
  const absl::Duration interval_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_CHECKPOINTER_H_
