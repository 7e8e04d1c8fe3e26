// Store::Gauges: what the database holds now, for metrics.
#include <sys/statvfs.h>

#include <filesystem>
#include <string>
#include <utility>

#include "SQLiteCpp/Statement.h"
#include "server/store/rows.h"
#include "server/store/store.h"

namespace intake::store {
namespace {

int64_t FileBytes(const std::string& path) {
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  return error ? 0 : static_cast<int64_t>(size);
}

}  // namespace

absl::StatusOr<StoreGauges> Store::Gauges() {
  absl::StatusOr<StoreGauges> gauges =
      readers_.With([&](SQLite::Database& db) -> absl::StatusOr<StoreGauges> {
        StoreGauges g;
        // Both read a partial index of the waiting leads: a few rows on a healthy system,
        // however many leads there are.
        SQLite::Statement unassigned(db, rows::kUnassignedLeadsQuery);
        if (unassigned.executeStep()) g.unassigned_leads = unassigned.getColumn(0).getInt64();
        SQLite::Statement waiting(db, rows::kWaitingLeadsQuery);
        while (waiting.executeStep()) {
          g.unacknowledged.emplace_back(
              waiting.getColumn(0).getString(),
              WaitingLeads{waiting.getColumn(1).getInt64(),
                           rows::FromMicros(waiting.getColumn(2).getInt64())});
        }
        return g;
      });
  if (!gauges.ok()) return gauges.status();
  gauges->database_bytes = FileBytes(path_);
  gauges->wal_bytes = FileBytes(path_ + "-wal");
  struct statvfs fs {};
  const std::string dir = std::filesystem::path(path_).parent_path().string();
  if (statvfs(dir.empty() ? "." : dir.c_str(), &fs) == 0) {
    gauges->filesystem_bytes =
        static_cast<int64_t>(fs.f_blocks) * static_cast<int64_t>(fs.f_frsize);
    gauges->filesystem_free_bytes =
        static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
  }
  return gauges;
}

}  // namespace intake::store
