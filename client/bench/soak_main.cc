// intake-soak: flags only; the soak lives in soak.cc.
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "client/bench/soak.h"
#include "client/bench/spawned_intaked.h"

ABSL_FLAG(absl::Duration, duration, absl::Minutes(30), "How long the mixed load runs.");
ABSL_FLAG(absl::Duration, sample_interval, absl::Minutes(1),
          "How often intaked's memory, file descriptors, WAL and latency are sampled.");
ABSL_FLAG(int, rate, 0,
          "Submissions per second. 0: half the capacity a probe measures first under the same "
          "mixed load (see above); the JSON says which (rate_from) and what the probe saw.");
ABSL_FLAG(absl::Duration, probe, absl::Seconds(10),
          "How long the capacity probe is measured (after a 2 s warm-up) when --rate is 0.");
ABSL_FLAG(int, subscribers, 8, "Dashboards streaming the provider's leads.");
ABSL_FLAG(absl::Duration, reconnect_every, absl::Minutes(1),
          "Each dashboard reconnects from its cursor this often (staggered).");
ABSL_FLAG(std::string, intaked, "", "intaked binary to spawn (default: next to intake-soak).");
ABSL_FLAG(std::string, out_dir, "soak", "Folder for soak.csv, soak.gp and soak.png.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Soaks a spawned intaked (data directory in $TMPDIR) with mixed load and plots what it "
      "samples.\n"
      "Usage: intake-soak [--duration=30m] [--sample_interval=1m] [--rate=N] [--out_dir=DIR]\n"
      "\n"
      "The load: submissions to one provider's listing at --rate per second (open loop), "
      "--subscribers dashboards streaming that provider's leads and reconnecting from their "
      "cursors, and staff acknowledging every other lead and recording a contact attempt on "
      "every fourth.\n"
      "The rate (--rate=0): the dashboards and staff start first; then 64 submissions are kept "
      "in flight for --probe, and the capacity is the lesser of the OK submissions per second "
      "and the events per second each dashboard received meanwhile. The soak runs at half "
      "that, once the dashboards have caught up.\n"
      "Each --sample_interval: intaked's RSS and heap (RssAnon), open fds, WAL and database "
      "size, the interval's submissions, errors, p50/p99 and stream events, into soak.csv; "
      "plotted to soak.png with gnuplot at the end.\n"
      "The verdict (JSON on stdout, one entry per check with its figures): flat only if all "
      "hold. samples: at least 4. load: in the second half OK submissions reach 90% of the "
      "rate, and none failed in the whole run. delivery: in the second half the dashboards "
      "receive at least 90% of one event per dashboard per OK submission. anon_rss, fds, wal: "
      "the trend across the second half (the median slope between any two samples, so one "
      "spike does not decide) grows the heap by at most 10% (4 MiB), "
      "fds by at most 2, the WAL by at most 10% (1 MiB); warm-up in the first half does not "
      "count. p99: its trend across the second half at most 25% (1 ms), and its median there "
      "at most 1.5x the first half's + 1 ms. streams: no dashboard stream failed. clean_exit: "
      "intaked drained and exited 0 on SIGTERM.\n"
      "Exit status: 0 flat, 1 not flat, 2 the soak could not run.");
  absl::ParseCommandLine(argc, argv);
  intake::bench::SoakOptions options;
  options.intaked = absl::GetFlag(FLAGS_intaked);
  if (options.intaked.empty()) options.intaked = intake::bench::IntakedNextToThisBinary();
  options.duration = absl::GetFlag(FLAGS_duration);
  options.sample_interval = absl::GetFlag(FLAGS_sample_interval);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.probe = absl::GetFlag(FLAGS_probe);
  options.subscribers = absl::GetFlag(FLAGS_subscribers);
  options.reconnect_every = absl::GetFlag(FLAGS_reconnect_every);
  options.out_dir = absl::GetFlag(FLAGS_out_dir);
  return intake::bench::RunSoak(options);
}
