// The soak: a spawned intaked under mixed load for a long time (submissions at half its
// measured capacity, dashboards that stream and reconnect, acknowledgements and contact
// attempts), sampled every interval, so that slow leaks and drifts show: memory, file
// descriptors, WAL size, submit latency. Writes the samples as CSV, plots them to a PNG with
// gnuplot, and judges each series flat or not.
#ifndef INTAKE_CLIENT_BENCH_SOAK_H_
#define INTAKE_CLIENT_BENCH_SOAK_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace intake::bench {

struct SoakOptions {
  // The intaked binary to spawn, on a fresh data directory in TMPDIR.
  std::string intaked;
  absl::Duration duration = absl::Minutes(30);
  absl::Duration sample_interval = absl::Minutes(1);
  // Submissions per second; 0: half the capacity measured first (10 s, 64 in flight).
  int rate = 0;
  // Dashboards streaming the provider's leads; each reconnects from its cursor once per
  // `reconnect_every`, at staggered times.
  int subscribers = 8;
  absl::Duration reconnect_every = absl::Minutes(1);
  // Where soak.csv, soak.gp and soak.png go (created if missing).
  std::string out_dir;
};

// One sample: the interval that ended at `minute` minutes into the run.
struct SoakSample {
  double minute = 0;
  double rss_mib = 0;   // VmRSS
  double anon_mib = 0;  // RssAnon: the heap, where a leak would show
  double fds = 0;       // open file descriptors
  double wal_mib = 0;   // intake.db-wal
  double db_mib = 0;    // intake.db
  double submits = 0;   // completed OK in the interval
  double errors = 0;    // completed not OK in the interval
  double p50_ms = 0;    // submit latency of the interval's OK calls
  double p99_ms = 0;
  double events = 0;    // lead events the dashboards received in the interval
  double feedback = 0;  // acknowledgements and contact attempts sent in the interval
};

// Whether `samples` of one series stay flat over the second half of the run: the least-squares
// trend across it grows the series by less than `tolerance` of its median there (fds:
// `absolute` at most). Series shorter than 4 samples are judged flat.
bool IsFlat(const std::vector<double>& samples, double tolerance, double absolute = 0);

// Runs the soak; prints progress on stderr and a JSON summary on stdout. Returns the exit
// code: 0 when every series is flat and no submission failed, 1 otherwise, 2 for a soak that
// could not run.
int RunSoak(const SoakOptions& options);

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_SOAK_H_
