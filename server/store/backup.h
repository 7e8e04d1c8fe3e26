// Online backups of the SQLite database: a consistent copy made beside a serving store, in a
// file of its own that lives only as long as the copy is being read.
#ifndef INTAKE_SERVER_STORE_BACKUP_H_
#define INTAKE_SERVER_STORE_BACKUP_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace intake::store {

// What a backup holds.
struct BackupInfo {
  std::string instance_id;
  int schema_version = 0;
  // The newest event in the copy (0 for none).
  uint64_t head_sequence = 0;
  int64_t size_bytes = 0;
  // When the copy's snapshot was taken.
  absl::Time snapshot_time;
  // PiiCipher::key_id of the data key the copy's personal data is sealed with.
  std::string data_key_id;
};

struct BackupOptions {
  // Pages copied per step of SQLite's backup API (4 KiB each).
  int pages_per_step = 1024;
  // Asked between steps; true stops the copy with kCancelled. May be empty.
  std::function<bool()> cancelled;
};

// A finished copy of the database. Its file is unlinked as soon as the copy is complete, so
// it takes disk space only while this object lives and never outlives the process. While it
// lives, no other backup of its store starts; it must not outlive the store.
// Thread-compatible.
class BackupFile {
 public:
  // Takes ownership of `fd`, an open read-only descriptor of the copy; clears `*running` when
  // destroyed.
  BackupFile(int fd, BackupInfo info, std::atomic<bool>* running)
      : fd_(fd), info_(std::move(info)), running_(running) {}
  ~BackupFile();
  BackupFile(const BackupFile&) = delete;
  BackupFile& operator=(const BackupFile&) = delete;

  const BackupInfo& info() const { return info_; }

  // Up to `max` bytes of the copy from `offset`; fewer only at its end (none past it).
  // kDataLoss if the file cannot be read.
  absl::StatusOr<std::string> Read(int64_t offset, size_t max) const;

 private:
  const int fd_;
  const BackupInfo info_;
  std::atomic<bool>* const running_;
};

// The name prefix of the files copies are made in, beside the database file `db_path`:
// "<db_path>.backup-". Files with it left behind by a crash are deleted when the store opens.
std::string BackupFilePrefix(const std::string& db_path);

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_BACKUP_H_
