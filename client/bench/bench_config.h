// The settings of one intake-bench run, as main.cc reads them from the flags; every benchmark
// mode takes them whole.
#ifndef INTAKE_CLIENT_BENCH_BENCH_CONFIG_H_
#define INTAKE_CLIENT_BENCH_BENCH_CONFIG_H_

#include <string>

#include "absl/time/time.h"

namespace intake::bench {

struct BenchConfig {
  // Public listener to measure; empty: spawn `intaked` for the run.
  std::string target;
  // Admin listener of `target`, and the file holding its admin token; unused by the submit
  // mode.
  std::string admin_target;
  std::string admin_token_file;
  // The intaked binary to spawn when `target` is empty.
  std::string intaked;
  // Calls in flight, and the channels (one TCP connection each) they are spread over;
  // 1 <= channels <= concurrency.
  int concurrency = 64;
  int channels = 8;
  absl::Duration warmup = absl::Seconds(2);
  absl::Duration duration = absl::Seconds(10);
  // Deadline of every call.
  absl::Duration call_timeout = absl::Seconds(10);
  // listing_id of every submission; empty for the general helpline. Unused by the delivery
  // mode, which submits to a listing it creates.
  std::string listing_id;
  // Submissions started per second by the open-loop modes (delivery). Positive.
  int rate = 1000;
  // Where the delivery mode's disk-floor phase writes; empty: the spawned intaked's data
  // directory, or no floor phase with `target`.
  std::string floor_dir;
  // Bytes the floor writes per commit. From 1 to kDiskFloorFileBytes (disk_floor.h).
  int floor_commit_bytes = 65536;
};

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_BENCH_CONFIG_H_
