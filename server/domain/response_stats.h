// Measured response figures: how fast and how reliably a provider calls callers back,
// computed from stored timestamps only.
#ifndef INTAKE_SERVER_DOMAIN_RESPONSE_STATS_H_
#define INTAKE_SERVER_DOMAIN_RESPONSE_STATS_H_

#include <cstdint>
#include <optional>

#include "absl/time/time.h"
#include "absl/types/span.h"

namespace intake {

// One lead as the figures see it.
struct ResponseSample {
  absl::Time create_time;
  // The first contact attempt; nullopt if none yet.
  std::optional<absl::Time> first_contact_time;
};

struct ResponseFigures {
  // Median of (first contact - creation) over sampled leads with a contact; zero if none.
  absl::Duration median_response;
  // Sampled leads with a first contact within the SLA / sample_size; 0 for no sample.
  double response_rate = 0;
  uint32_t sample_size = 0;
  uint32_t window_days = 0;
};

struct ResponsePolicy {
  // Only leads created in the last `window` count.
  absl::Duration window = absl::Hours(24 * 30);
  // A contact within this long of creation counts as a response; a lead younger than this
  // without one is not late yet and stays out of the sample.
  absl::Duration sla = absl::Hours(1);
};

// The figures of `samples` at `now`. Samples outside the window are ignored, so callers may
// pass a superset. The median of an even count is the mean of the two middle values. Pure.
ResponseFigures ComputeResponseFigures(absl::Span<const ResponseSample> samples,
                                       const ResponsePolicy& policy, absl::Time now);

}  // namespace intake

#endif  // INTAKE_SERVER_DOMAIN_RESPONSE_STATS_H_
