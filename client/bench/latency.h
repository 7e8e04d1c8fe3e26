// Latency samples of one benchmark phase, and the percentiles the report shows. Every sample
// is kept (8 bytes each: 10 s at 100k calls/s is 8 MB) rather than bucketed, because the
// performance budget reads p99 against an echo baseline and bucket error would blur that.
#ifndef INTAKE_CLIENT_BENCH_LATENCY_H_
#define INTAKE_CLIENT_BENCH_LATENCY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/time/time.h"

namespace intake::bench {

// Latencies of completed calls. Not thread-safe: the load loop gives each lane its own and
// merges them once every lane has stopped.
class LatencySamples {
 public:
  // Adds one sample. Negative latencies (a clock bug) are recorded as zero.
  void Record(absl::Duration latency);

  // Adds every sample of `other`.
  void Merge(const LatencySamples& other);

  size_t count() const { return nanos_.size(); }

  // The `q`-quantile (q in [0, 1], clamped) by the nearest-rank method: the smallest sample
  // that at least q of all samples do not exceed. nullopt when there are no samples. Sorts
  // the samples on the first call after a change, hence not const.
  std::optional<absl::Duration> Percentile(double q);

 private:
  std::vector<int64_t> nanos_;
  bool sorted_ = true;
};

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_LATENCY_H_
