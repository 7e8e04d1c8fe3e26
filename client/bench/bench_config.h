// The settings of one intake-bench run, as main.cc reads them from the flags; every benchmark
// mode takes them whole.
#ifndef INTAKE_CLIENT_BENCH_BENCH_CONFIG_H_
#define INTAKE_CLIENT_BENCH_BENCH_CONFIG_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace intake::bench {

// TLS for a run: the server side (the spawned intaked and the echo server serve the same
// certificate, so both phases pay for TLS alike) and what the clients trust.
struct BenchTls {
  // PEM files of the certificate and key the servers serve; both empty: plaintext.
  std::string cert_path;
  std::string key_path;
  // PEM contents, read at start-up: the certificate and key, and the CA bundle clients
  // verify servers with (--tls_ca, else the certificate itself, for a self-signed one).
  std::string cert_pem;
  std::string key_pem;
  std::string ca_pem;

  bool enabled() const { return !cert_path.empty(); }
};

struct BenchConfig {
  // Public listener to measure; empty: spawn `intaked` for the run.
  std::string target;
  // Admin listener of `target`, and the file holding its admin token; unused by the submit
  // mode.
  std::string admin_target;
  std::string admin_token_file;
  // The intaked binary to spawn when `target` is empty, and flags added to its command line.
  std::string intaked;
  std::vector<std::string> intaked_args;
  // Where the spawned intaked's temporary data directory is made; empty: the system's
  // temporary directory. On a tmpfs (/dev/shm) fdatasync costs nothing, which leaves
  // Intake's own latency.
  std::string data_dir_parent;
  // TLS on every server and channel of the run; off by default.
  BenchTls tls;
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
