// Store::Backup and the file it returns.
#include "server/store/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

#include "SQLiteCpp/Backup.h"
#include "SQLiteCpp/Statement.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/domain/status_macros.h"
#include "server/store/rows.h"
#include "server/store/sqlite_status.h"
#include "server/store/store.h"

namespace intake::store {

BackupFile::~BackupFile() {
  close(fd_);
  *running_ = false;
}

absl::StatusOr<std::string> BackupFile::Read(int64_t offset, size_t max) const {
  std::string out(max, '\0');
  size_t got = 0;
  while (got < max) {
    const ssize_t n = pread(fd_, out.data() + got, max - got,
                            static_cast<off_t>(offset) + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::DataLossError(absl::StrCat("reading the backup: ", strerror(errno)));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

std::string BackupFilePrefix(const std::string& db_path) { return db_path + ".backup-"; }

absl::StatusOr<std::unique_ptr<BackupFile>> Store::Backup(const BackupOptions& options) {
  if (backup_running_.exchange(true)) {
    return absl::UnavailableError("another backup is running; retry when it has finished");
  }
  absl::StatusOr<std::unique_ptr<BackupFile>> file = CopyDatabase(options);
  if (!file.ok()) backup_running_ = false;  // Else the file clears it when it goes.
  return file;
}

absl::StatusOr<std::unique_ptr<BackupFile>> Store::CopyDatabase(const BackupOptions& options) {
  INTAKE_ASSIGN_OR_RETURN(std::unique_ptr<SQLite::Database> source,
                          OpenConnection(path_, ConnectionRole::kReader, options_.connection));
  std::string copy_path;
  const auto remove_copy = [&copy_path] {
    if (copy_path.empty()) return;
    std::error_code ignored;
    std::filesystem::remove(copy_path, ignored);
  };
  try {
    // The snapshot: a read transaction held across every step, so the copy is of one moment
    // and SQLite never restarts it when the writer commits meanwhile.
    source->exec("BEGIN");
    BackupInfo info;
    SQLite::Statement identity(*source, "SELECT instance_id, data_key_id FROM instance");
    identity.executeStep();
    info.instance_id = identity.getColumn(0).getString();
    info.data_key_id = identity.getColumn(1).getString();
    info.schema_version = schema_version_;
    info.head_sequence = rows::LastSequence(*source);
    info.snapshot_time = clock_.Now();

    copy_path = BackupFilePrefix(path_) +
                source->execAndGet("SELECT lower(hex(randomblob(8)))").getString();
    SQLite::Database copy(copy_path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    // The copy is read once and then deleted: neither a journal nor fsyncs are of use to it.
    copy.exec("PRAGMA journal_mode=OFF");
    copy.exec("PRAGMA synchronous=OFF");
    {
      SQLite::Backup backup(copy, *source);
      while (backup.executeStep(options.pages_per_step) != SQLITE_DONE) {
        if (options.cancelled && options.cancelled()) {
          remove_copy();
          return absl::CancelledError("the backup was cancelled");
        }
      }
    }
    source->exec("COMMIT");

    const int fd = open(copy_path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    const int error = fd < 0 || fstat(fd, &st) != 0 ? errno : 0;
    remove_copy();  // `fd` still reads it; its disk space is freed when `fd` closes.
    if (error != 0) {
      if (fd >= 0) close(fd);
      return absl::UnavailableError(absl::StrCat("opening the backup copy: ", strerror(error)));
    }
    info.size_bytes = st.st_size;
    return std::make_unique<BackupFile>(fd, std::move(info), &backup_running_);
  } catch (const std::exception& e) {
    remove_copy();
    return SqliteError("backing up the database", e);
  }
}

}  // namespace intake::store
