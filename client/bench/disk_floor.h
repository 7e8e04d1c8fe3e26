// The disk floor of the delivery benchmark: the best submit-to-delivery latency that any
// design making a lead durable before delivering it could reach on a disk, measured in the
// same run as the delivery phase (as the echo baseline is) because disks, like CPUs on shared
// machines, drift: a VM's fdatasync may stall for hundreds of milliseconds a few times a minute.
#ifndef INTAKE_CLIENT_BENCH_DISK_FLOOR_H_
#define INTAKE_CLIENT_BENCH_DISK_FLOOR_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/bench/latency.h"

namespace intake::bench {

// The size of the scratch file the floor overwrites in turn, and so the largest commit.
inline constexpr int64_t kDiskFloorFileBytes = int64_t{16} << 20;

struct DiskFloorOptions {
  // Where the scratch file goes: a directory on the disk under test.
  std::string directory;
  // Leads arriving per second, on a fixed schedule as in the open loop. Positive.
  int rate = 1000;
  // Leads arriving during this first period are committed but not recorded.
  absl::Duration warmup = absl::Seconds(2);
  // The measured period that follows. Positive.
  absl::Duration duration = absl::Seconds(10);
  // Bytes written per commit, what one commit of the store writes to its log. From 1 to
  // kDiskFloorFileBytes.
  int64_t commit_bytes = 65536;
};

struct DiskFloorResult {
  // From each measured lead's arrival to the end of the fdatasync that made it durable.
  LatencySamples lead_latencies;
  // Of each fdatasync that made at least one measured lead durable.
  LatencySamples fdatasync_latencies;
};

// Runs the ideal group commit on the calling thread, blocking for warmup + duration plus the
// last commit: leads "arrive" at options.rate per second, and in a loop one thread takes every
// lead that has arrived, writes options.commit_bytes to a preallocated file (so the file's size
// never changes) and fdatasyncs it; each lead's latency ends when that fdatasync returns. Only
// the disk is measured: no lock, no SQL, no network. The file is made in options.directory with
// a unique name, mode 0600, and removed before returning, whatever the outcome. Errors: a
// failing system call gives the status its errno maps to (kNotFound for a missing directory,
// kPermissionDenied, ...), with the directory, the call and the errno text in the message;
// kInvalidArgument for options out of range.
absl::StatusOr<DiskFloorResult> MeasureDiskFloor(const DiskFloorOptions& options);

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_DISK_FLOOR_H_
