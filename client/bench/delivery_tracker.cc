#include "client/bench/delivery_tracker.h"

#include <utility>

namespace intake::bench {

void DeliveryTracker::RecordSent(std::string phone, Clock::time_point sent) {
  absl::MutexLock lock(&mu_);
  if (!pending_.emplace(std::move(phone), Pending{sent}).second) return;
  ++awaited_;
  ++result_.sent;
}

void DeliveryTracker::RecordSubmitFailed(absl::string_view phone) {
  absl::MutexLock lock(&mu_);
  auto it = pending_.find(std::string(phone));
  if (it == pending_.end() || it->second.failed) return;
  it->second.failed = true;
  --awaited_;
}

void DeliveryTracker::RecordAssigned(absl::string_view phone, Clock::time_point read) {
  absl::MutexLock lock(&mu_);
  auto it = pending_.find(std::string(phone));
  if (it == pending_.end()) return;
  result_.latencies.Record(absl::FromChrono(read - it->second.sent));
  ++result_.received;
  if (!it->second.failed) --awaited_;
  pending_.erase(it);
}

bool DeliveryTracker::WaitUntilSettled(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(absl::Condition(
                                   +[](uint64_t* awaited) { return *awaited == 0; }, &awaited_),
                               deadline);
}

DeliveryTracker::Result DeliveryTracker::Take() {
  absl::MutexLock lock(&mu_);
  Result result = std::move(result_);
  result_ = Result();
  pending_.clear();
  awaited_ = 0;
  return result;
}

}  // namespace intake::bench
