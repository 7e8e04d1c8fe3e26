#include "client/bench/disk_floor.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace intake::bench {
namespace {

using Clock = std::chrono::steady_clock;

// A file of the floor's own in a directory, closed and removed when this goes out of scope.
class ScratchFile {
 public:
  explicit ScratchFile(std::string directory) : directory_(std::move(directory)) {}
  ~ScratchFile() {
    if (fd_ < 0) return;
    close(fd_);
    unlink(path_.c_str());
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  // Creates a file with a unique name in the directory, mode 0600. Call once.
  absl::Status Create() {
    std::string pattern = absl::StrCat(directory_, "/intake-bench-floor.XXXXXX");
    fd_ = mkostemp(pattern.data(), O_CLOEXEC);
    if (fd_ < 0) return Error("mkostemp");
    path_ = std::move(pattern);
    return absl::OkStatus();
  }

  // Writes all of `bytes` at `offset`.
  absl::Status WriteAt(const std::vector<char>& bytes, off_t offset) {
    size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t n = pwrite(fd_, bytes.data() + written, bytes.size() - written,
                               offset + static_cast<off_t>(written));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error("pwrite");
      if (n == 0) return absl::DataLossError(absl::StrCat(Context(), "pwrite wrote nothing"));
      written += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Fsync() { return fsync(fd_) == 0 ? absl::OkStatus() : Error("fsync"); }
  absl::Status Fdatasync() { return fdatasync(fd_) == 0 ? absl::OkStatus() : Error("fdatasync"); }

 private:
  std::string Context() const { return absl::StrCat("disk floor in ", directory_, ": "); }
  // The status of the call that just failed, from errno.
  absl::Status Error(absl::string_view call) const {
    return absl::ErrnoToStatus(errno, absl::StrCat(Context(), call));
  }

  const std::string directory_;
  std::string path_;
  int fd_ = -1;
};

// `count` bytes that no layer below can compress or deduplicate, as the store's pages are.
std::vector<char> RandomBytes(int64_t count) {
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<char> bytes(static_cast<size_t>(count));
  for (char& b : bytes) b = static_cast<char>(byte(random));
  return bytes;
}

}  // namespace

absl::StatusOr<DiskFloorResult> MeasureDiskFloor(const DiskFloorOptions& options) {
  if (options.rate < 1 || options.warmup < absl::ZeroDuration() ||
      options.duration <= absl::ZeroDuration() || options.commit_bytes < 1 ||
      options.commit_bytes > kDiskFloorFileBytes) {
    return absl::InvalidArgumentError(
        "disk floor: rate, warmup, duration or commit size out of range");
  }
  ScratchFile file(options.directory);
  if (absl::Status s = file.Create(); !s.ok()) return s;
  // Written, not just allocated (fallocate leaves unwritten extents, whose first write is a
  // metadata change), so that each fdatasync below has only data to flush, as the store's
  // WAL once it has reached its size.
  if (absl::Status s = file.WriteAt(std::vector<char>(kDiskFloorFileBytes, 0), 0); !s.ok()) {
    return s;
  }
  if (absl::Status s = file.Fsync(); !s.ok()) return s;
  const std::vector<char> commit = RandomBytes(options.commit_bytes);

  const Clock::time_point begin = Clock::now();
  const Clock::time_point measure_start = begin + absl::ToChronoNanoseconds(options.warmup);
  const Clock::time_point end = measure_start + absl::ToChronoNanoseconds(options.duration);
  const auto rate = static_cast<uint64_t>(options.rate);
  // Lead i arrives at i / rate after the beginning, as the open loop starts call i.
  const auto arrival = [begin, rate](uint64_t lead) {
    return begin + std::chrono::nanoseconds(static_cast<int64_t>(lead * 1'000'000'000 / rate));
  };

  DiskFloorResult result;
  off_t offset = 0;
  // The first lead not yet durable.
  uint64_t next_lead = 0;
  while (arrival(next_lead) < end) {
    const Clock::time_point now = Clock::now();
    uint64_t arrived = next_lead;
    while (arrival(arrived) <= now && arrival(arrived) < end) ++arrived;
    if (arrived == next_lead) {
      std::this_thread::sleep_until(arrival(next_lead));
      continue;
    }
    // Back to the start rather than past the end, so the file's size never changes.
    if (offset + options.commit_bytes > kDiskFloorFileBytes) offset = 0;
    if (absl::Status s = file.WriteAt(commit, offset); !s.ok()) return s;
    offset += options.commit_bytes;
    const Clock::time_point sync_start = Clock::now();
    if (absl::Status s = file.Fdatasync(); !s.ok()) return s;
    const Clock::time_point durable = Clock::now();
    if (arrival(arrived - 1) >= measure_start) {
      result.fdatasync_latencies.Record(absl::FromChrono(durable - sync_start));
    }
    for (; next_lead < arrived; ++next_lead) {
      if (arrival(next_lead) >= measure_start) {
        result.lead_latencies.Record(absl::FromChrono(durable - arrival(next_lead)));
      }
    }
  }
  return result;
}

}  // namespace intake::bench
