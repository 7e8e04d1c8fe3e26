#include "server/domain/response_stats.h"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace intake {

ResponseFigures ComputeResponseFigures(absl::Span<const ResponseSample> samples,
                                       const ResponsePolicy& policy, absl::Time now) {
  ResponseFigures figures;
  figures.window_days = static_cast<uint32_t>(policy.window / absl::Hours(24));
  std::vector<absl::Duration> response_times;
  uint32_t within_sla = 0;
  for (const ResponseSample& s : samples) {
    if (s.create_time < now - policy.window || s.create_time > now) continue;
    if (!s.first_contact_time && now - s.create_time < policy.sla) continue;  // Not late yet.
    ++figures.sample_size;
    if (!s.first_contact_time) continue;
    const absl::Duration response =
        std::max(*s.first_contact_time - s.create_time, absl::ZeroDuration());
    response_times.push_back(response);
    if (response <= policy.sla) ++within_sla;
  }
  if (figures.sample_size > 0) {
    figures.response_rate = static_cast<double>(within_sla) / figures.sample_size;
  }
  if (!response_times.empty()) {
    const auto mid = static_cast<std::ptrdiff_t>(response_times.size() / 2);
    std::nth_element(response_times.begin(), response_times.begin() + mid, response_times.end());
    figures.median_response = response_times[static_cast<size_t>(mid)];
    if (response_times.size() % 2 == 0) {
      const absl::Duration lower =
          *std::max_element(response_times.begin(), response_times.begin() + mid);
      figures.median_response = (lower + figures.median_response) / 2;
    }
  }
  return figures;
}

}  // namespace intake
