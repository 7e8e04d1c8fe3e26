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
ABSL_FLAG(int, rate, 0, "Submissions per second; 0: half the capacity measured first.");
ABSL_FLAG(int, subscribers, 8, "Dashboards streaming the provider's leads.");
ABSL_FLAG(absl::Duration, reconnect_every, absl::Minutes(1),
          "Each dashboard reconnects from its cursor this often (staggered).");
ABSL_FLAG(std::string, intaked, "", "intaked binary to spawn (default: next to intake-soak).");
ABSL_FLAG(std::string, out_dir, "soak", "Folder for soak.csv, soak.gp and soak.png.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Soaks a spawned intaked with mixed load and plots what it samples.\n"
      "Usage: intake-soak [--duration=30m] [--out_dir=DIR] ...");
  absl::ParseCommandLine(argc, argv);
  intake::bench::SoakOptions options;
  options.intaked = absl::GetFlag(FLAGS_intaked);
  if (options.intaked.empty()) options.intaked = intake::bench::IntakedNextToThisBinary();
  options.duration = absl::GetFlag(FLAGS_duration);
  options.sample_interval = absl::GetFlag(FLAGS_sample_interval);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.subscribers = absl::GetFlag(FLAGS_subscribers);
  options.reconnect_every = absl::GetFlag(FLAGS_reconnect_every);
  options.out_dir = absl::GetFlag(FLAGS_out_dir);
  return intake::bench::RunSoak(options);
}
