#include "client/bench/latency.h"

#include <algorithm>
#include <cmath>

namespace intake::bench {

void LatencySamples::Record(absl::Duration latency) {
  nanos_.push_back(std::max<int64_t>(0, absl::ToInt64Nanoseconds(latency)));
  sorted_ = false;
}

void LatencySamples::Merge(const LatencySamples& other) {
  nanos_.insert(nanos_.end(), other.nanos_.begin(), other.nanos_.end());
  sorted_ = sorted_ && other.nanos_.empty();
}

std::optional<absl::Duration> LatencySamples::Percentile(double q) {
  if (nanos_.empty()) return std::nullopt;
  if (!sorted_) {
    std::sort(nanos_.begin(), nanos_.end());
    sorted_ = true;
  }
  q = std::clamp(q, 0.0, 1.0);
  const auto n = static_cast<double>(nanos_.size());
  const auto rank = static_cast<size_t>(std::ceil(q * n));
  return absl::Nanoseconds(nanos_[std::max<size_t>(rank, 1) - 1]);
}

}  // namespace intake::bench
