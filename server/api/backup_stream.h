// AdminService.BackupDatabase: a callback-API write reactor that has the store make a copy of
// the database, then streams the copy's bytes with their SHA-256.
#ifndef INTAKE_SERVER_API_BACKUP_STREAM_H_
#define INTAKE_SERVER_API_BACKUP_STREAM_H_

#include <sodium.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_callback.h"
#include "intake/v1/admin_service.pb.h"
#include "server/api/blocking_executor.h"
#include "server/api/lead_stream.h"
#include "server/store/storage.h"

namespace intake::api {

// Makes the copy (Store::Backup) on the blocking executor, then sends the info, the bytes in
// chunks and the hash, each chunk read on the executor, one write in flight. The steps run
// one after another, never two at once. It stops when the client cancels, and ends with
// UNAVAILABLE when the server drains (it is registered like a lead stream). Owns itself:
// deleted in OnDone. Everything passed in must outlive it.
class BackupStream final : public grpc::ServerWriteReactor<v1::BackupDatabaseResponse>,
                           public EndableStream {
 public:
  // Bytes of the copy per message.
  static constexpr size_t kChunkBytes = size_t{256} * 1024;

  BackupStream(store::Storage* store, BlockingExecutor* executor, StreamRegistry* registry);

  void OnWriteDone(bool ok) override;
  void OnCancel() override { stop_requested_ = true; }
  void OnDone() override;
  void End(grpc::Status status) override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void MakeCopy();  // On the executor.
  void SendNext();  // On the executor.
  // Finishes with the status End() gave, if it was called, else with `status`.
  void FinishWith(const grpc::Status& status) ABSL_LOCKS_EXCLUDED(mu_);
  // Frees the backup (its copy, and the store's one-backup-at-a-time slot), then finishes:
  // a client that starts another backup as soon as it has heard the end is not refused.
  void Close(const grpc::Status& status);
  std::optional<grpc::Status> Ended() ABSL_LOCKS_EXCLUDED(mu_);

  store::Storage& store_;
  BlockingExecutor& executor_;
  StreamRegistry& registry_;
  // Set by a cancelled call or End(): the copy stops at its next step.
  std::atomic<bool> stop_requested_{false};

  absl::Mutex mu_;
  std::optional<grpc::Status> ended_ ABSL_GUARDED_BY(mu_);

  // Used by one step at a time (the steps never overlap), so unguarded.
  std::unique_ptr<store::BackupFile> file_;
  int64_t offset_ = 0;
  crypto_hash_sha256_state sha256_{};
  v1::BackupDatabaseResponse message_;
  bool hash_sent_ = false;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_BACKUP_STREAM_H_
