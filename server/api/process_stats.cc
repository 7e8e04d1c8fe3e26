#include "server/api/process_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace intake::api {
namespace {

std::string ReadProcFile(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// btime from /proc/stat: when the system booted, in seconds since the epoch; 0 if unknown.
int64_t BootTimeSeconds() {
  for (absl::string_view line : absl::StrSplit(ReadProcFile("/proc/stat"), '\n')) {
    int64_t btime = 0;
    if (absl::ConsumePrefix(&line, "btime ") && absl::SimpleAtoi(line, &btime)) return btime;
  }
  return 0;
}

}  // namespace

absl::StatusOr<ProcessStats> ParseProcStat(absl::string_view stat, int64_t ticks_per_second,
                                           int64_t page_bytes, int64_t boot_time_seconds) {
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the fields start
  // after the last ')'. Counting from 1 at pid, state is field 3.
  const size_t paren = stat.rfind(')');
  if (paren == absl::string_view::npos || ticks_per_second <= 0) {
    return absl::InvalidArgumentError("not a /proc/<pid>/stat line");
  }
  const std::vector<absl::string_view> fields =
      absl::StrSplit(absl::StripAsciiWhitespace(stat.substr(paren + 1)), ' ', absl::SkipEmpty());
  // fields[0] is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
  auto field = [&](int number, int64_t* out) {
    const size_t i = static_cast<size_t>(number - 3);
    return i < fields.size() && absl::SimpleAtoi(fields[i], out);
  };
  int64_t utime = 0, stime = 0, start_ticks = 0, vsize = 0, rss_pages = 0;
  if (!field(14, &utime) || !field(15, &stime) || !field(22, &start_ticks) || !field(23, &vsize) ||
      !field(24, &rss_pages)) {
    return absl::InvalidArgumentError("not a /proc/<pid>/stat line");
  }
  ProcessStats stats;
  const auto ticks = static_cast<double>(ticks_per_second);
  stats.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  stats.start_time_seconds =
      static_cast<double>(boot_time_seconds) + static_cast<double>(start_ticks) / ticks;
  stats.virtual_bytes = vsize;
  stats.resident_bytes = rss_pages * page_bytes;
  return stats;
}

absl::StatusOr<ProcessStats> ReadProcessStats() {
  absl::StatusOr<ProcessStats> stats =
      ParseProcStat(ReadProcFile("/proc/self/stat"), sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE),
                    BootTimeSeconds());
  if (!stats.ok()) return absl::UnavailableError("cannot read /proc/self/stat");
  std::error_code error;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
       it.increment(error)) {
    ++stats->open_fds;
  }
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) stats->max_fds = static_cast<int64_t>(limit.rlim_cur);
  return stats;
}

}  // namespace intake::api
