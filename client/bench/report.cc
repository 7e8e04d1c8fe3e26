#include "client/bench/report.h"

#include <linux/magic.h>
#include <sched.h>
#include <sys/statfs.h>

#include <iostream>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace intake::bench {

std::string MillisJson(std::optional<absl::Duration> latency) {
  if (!latency) return "null";
  return absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(*latency));
}

std::string LoadResultJson(LoadResult& result) {
  std::string codes;
  for (const auto& [code, count] : result.errors) {
    // Abseil's codes carry gRPC's numbers, and its names are gRPC's.
    absl::StrAppend(&codes, codes.empty() ? "" : ", ",
                    JsonString(absl::StatusCodeToString(static_cast<absl::StatusCode>(code))), ": ",
                    count);
  }
  return absl::StrFormat(
      R"({"calls_per_s": %.1f, "ok": %d, "p50_ms": %s, "p99_ms": %s, "errors": %d, )"
      R"("error_codes": {%s}})",
      result.ok_per_second(), result.ok, MillisJson(result.ok_latencies.Percentile(0.50)),
      MillisJson(result.ok_latencies.Percentile(0.99)), result.error_count(), codes);
}

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      absl::StrAppend(&out, "\\", std::string(1, c));
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string FileSystemName(const std::string& path) {
  struct statfs fs {};
  if (statfs(path.c_str(), &fs) != 0) return "";
  switch (static_cast<uint64_t>(fs.f_type)) {
    case TMPFS_MAGIC:
      return "tmpfs";
    case EXT4_SUPER_MAGIC:  // Also ext2 and ext3, which share it.
      return "ext4";
    case XFS_SUPER_MAGIC:
      return "xfs";
    case BTRFS_SUPER_MAGIC:
      return "btrfs";
    case OVERLAYFS_SUPER_MAGIC:
      return "overlay";
    default:
      return absl::StrFormat("0x%x", static_cast<uint64_t>(fs.f_type));
  }
}

int AvailableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::thread::hardware_concurrency());
}

void LogPhase(absl::string_view phase, const LoadResult& result) {
  std::cerr << absl::StrFormat("intake-bench: %s: %.0f calls/s, %d errors\n", phase,
                               result.ok_per_second(), result.error_count());
}

}  // namespace intake::bench
