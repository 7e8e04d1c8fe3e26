// This process's resources as the kernel accounts them (/proc/self), for the process_* metrics
// every Prometheus exporter carries.
#ifndef INTAKE_SERVER_API_PROCESS_STATS_H_
#define INTAKE_SERVER_API_PROCESS_STATS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace intake::api {

struct ProcessStats {
  double cpu_seconds = 0;         // User and system time.
  int64_t resident_bytes = 0;     // Resident set size.
  int64_t virtual_bytes = 0;      // Virtual memory size.
  double start_time_seconds = 0;  // Since the Unix epoch.
  int64_t open_fds = 0;
  int64_t max_fds = 0;  // The soft limit on open files.
};

// Parses the contents of /proc/<pid>/stat, given the clock ticks per second, the page size
// and the boot time (btime of /proc/stat, seconds since the epoch) into cpu_seconds,
// resident_bytes, virtual_bytes and start_time_seconds. kInvalidArgument if it is not that
// format.
absl::StatusOr<ProcessStats> ParseProcStat(absl::string_view stat, int64_t ticks_per_second,
                                           int64_t page_bytes, int64_t boot_time_seconds);

// Everything above for this process, read now. kUnavailable if /proc cannot be read.
absl::StatusOr<ProcessStats> ReadProcessStats();

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_PROCESS_STATS_H_
