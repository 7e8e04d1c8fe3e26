// Submit-to-receive latency: pairs each measured submission with its lead's ASSIGNED event on
// a subscriber's stream, by the caller's E.164 phone number, which the benchmark makes unique
// per submission and the stream carries back.
#ifndef INTAKE_CLIENT_BENCH_DELIVERY_TRACKER_H_
#define INTAKE_CLIENT_BENCH_DELIVERY_TRACKER_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/bench/latency.h"

namespace intake::bench {

// Thread-safe. Every method holds one lock briefly and never waits otherwise (except
// WaitUntilSettled), so the subscriber's reactor may call it.
class DeliveryTracker {
 public:
  using Clock = std::chrono::steady_clock;

  struct Result {
    uint64_t sent = 0;
    // Sent leads whose ASSIGNED event arrived, each counted once.
    uint64_t received = 0;
    // From the send to the event's arrival, one per received lead.
    LatencySamples latencies;
  };

  // Counts a lead as sent at `sent`, to be matched by the E.164 `phone` its ASSIGNED event
  // will carry. Call before starting its submission, so its event cannot come first. A phone
  // already awaited is not counted again.
  void RecordSent(std::string phone, Clock::time_point sent) ABSL_LOCKS_EXCLUDED(mu_);

  // The submission of the lead sent with `phone` failed, so its event is not awaited any more
  // (though it still counts if it comes: a call that timed out may have committed).
  void RecordSubmitFailed(absl::string_view phone) ABSL_LOCKS_EXCLUDED(mu_);

  // An ASSIGNED event for `phone` read at `read`. Events for phones never recorded (warm-up
  // leads, earlier runs' leads replayed) and repeats (delivery is at-least-once) are ignored.
  void RecordAssigned(absl::string_view phone, Clock::time_point read) ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until every lead sent has arrived or failed, or until `deadline`; true in the first
  // case.
  bool WaitUntilSettled(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);

  // What has been recorded so far; the tracker is left empty.
  Result Take() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Pending {
    Clock::time_point sent;
    bool failed = false;
  };

  absl::Mutex mu_;
  // Leads sent and not yet received, by phone.
  std::unordered_map<std::string, Pending> pending_ ABSL_GUARDED_BY(mu_);
  // Entries of `pending_` that have not failed: what WaitUntilSettled waits out.
  uint64_t awaited_ ABSL_GUARDED_BY(mu_) = 0;
  Result result_ ABSL_GUARDED_BY(mu_);
};

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_DELIVERY_TRACKER_H_
