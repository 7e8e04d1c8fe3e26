// The soak: a spawned intaked under mixed load for a long time (submissions at half its
// capacity under that same mixed load, dashboards that stream and reconnect, acknowledgements
// and contact attempts), sampled every interval, so that slow leaks and drifts show: memory,
// file descriptors, WAL size, submit latency. Writes the samples as CSV, plots them to a PNG
// with gnuplot, and judges the run flat or not (JudgeSoak).
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
  // Submissions per second; 0: half the capacity that a probe measures first, with the
  // dashboards and the provider's staff already at work (see RunSoak).
  int rate = 0;
  // How long that probe is measured (after a 2 s warm-up).
  absl::Duration probe = absl::Seconds(10);
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

// How much the trend across the second half of `samples` grows the series from the half's
// first sample to its last: the Theil-Sen slope (the median of the slopes between every two
// samples, robust to a few outliers) times the half's span; 0 for fewer than 2 samples there.
double SecondHalfGrowth(const std::vector<double>& samples);

// Whether `samples` of one series stay flat over the second half of the run: the trend
// (SecondHalfGrowth) across it grows the series by at most `tolerance` of its median there, or by
// `absolute` (fds: a couple), whichever is more. What the first half does (warm-up: caches,
// allocator arenas, the WAL reaching its checkpoint size) does not count. Series shorter than
// 4 samples are judged flat; JudgeSoak refuses such runs as a whole.
bool IsFlat(const std::vector<double>& samples, double tolerance, double absolute = 0);

// One rule of the verdict: its name, whether the run met it, and the figures it was judged on.
struct SoakCheck {
  std::string name;
  bool pass = false;
  std::string detail;
};

// The run's verdict: flat when every check passes. The checks, each on the run's samples:
//   samples      at least 4 samples, else nothing can be judged;
//   load         in the second half, OK submissions reached 90 % of `rate` per second, and no
//                submission failed in the whole run: a server that falls behind or refuses
//                work is not flat, however its memory looks;
//   delivery     in the second half, the dashboards received at least 90 % of `subscribers`
//                events per OK submission: streams that starve are not a steady state;
//   anon_rss, fds, wal
//                flat by IsFlat: heap within 10 % (at least 4 MiB), fds within 2, the WAL
//                within 10 % (at least 1 MiB) across the second half;
//   p99          flat by IsFlat within 25 % (at least 1 ms), and the second half's median p99
//                at most 1.5 times the first half's plus 1 ms: latency neither climbs at the
//                end nor has stepped up since the start.
std::vector<SoakCheck> JudgeSoak(const std::vector<SoakSample>& samples, int rate, int subscribers);

// Runs the soak; prints progress on stderr and a JSON summary on stdout. Returns the exit
// code: 0 when the verdict is flat, 1 otherwise, 2 for a soak that could not run.
//
// With options.rate 0 the rate is derived under the soak's own mixed load: the dashboards and
// the staff start first, then a closed loop keeps 64 submissions in flight for
// options.probe; the capacity is the lesser of the OK submissions per second and the events
// per second each dashboard received meanwhile (a rate the streams cannot follow is not
// sustained), and the soak runs at half of it once the dashboards have caught up.
int RunSoak(const SoakOptions& options);

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_SOAK_H_
