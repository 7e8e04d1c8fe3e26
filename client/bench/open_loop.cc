#include "client/bench/open_loop.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace intake::bench {
namespace {

using Clock = std::chrono::steady_clock;

// What the completions of one run add up to. Completions arrive on gRPC's callback threads;
// at the rates an open loop is run at (thousands per second) one lock costs nothing.
class Completions {
 public:
  void Started() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
  }

  void Finished(bool measured, grpc::StatusCode code, absl::Duration latency)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    --in_flight_;
    if (!measured) return;
    if (code == grpc::StatusCode::OK) {
      ++result_.ok;
      result_.ok_latencies.Record(latency);
    } else {
      ++result_.errors[code];
    }
  }

  // Waits until no call is in flight and returns the tally.
  LoadResult Drain() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int64_t* in_flight) { return *in_flight == 0; }, &in_flight_));
    return std::move(result_);
  }

 private:
  absl::Mutex mu_;
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  LoadResult result_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

OpenLoopResult RunOpenLoop(const OpenLoopOptions& options, const OpenLoopCallStarter& start_call) {
  const Clock::time_point begin = Clock::now();
  const Clock::time_point measure_start = begin + absl::ToChronoNanoseconds(options.warmup);
  const Clock::time_point end = measure_start + absl::ToChronoNanoseconds(options.duration);
  const auto rate = static_cast<uint64_t>(options.rate);

  Completions completions;
  Clock::duration max_lag = Clock::duration::zero();
  uint64_t call_index = 0;
  for (;; ++call_index) {
    // Exact, and no overflow before call 1.8e10: 200 days at 1,000 calls per second.
    const Clock::time_point due =
        begin + std::chrono::nanoseconds(static_cast<int64_t>(call_index * 1'000'000'000 / rate));
    if (due >= end) break;
    std::this_thread::sleep_until(due);
    const Clock::time_point started = Clock::now();
    const bool measured = due >= measure_start;
    if (measured) max_lag = std::max(max_lag, started - due);
    completions.Started();
    start_call(call_index, measured, [&completions, started, measured](grpc::StatusCode code) {
      completions.Finished(measured, code, absl::FromChrono(Clock::now() - started));
    });
  }

  OpenLoopResult result;
  result.calls = completions.Drain();
  result.calls.measured = options.duration;
  result.calls.started = call_index;
  result.max_start_lag = absl::FromChrono(max_lag);
  return result;
}

}  // namespace intake::bench
