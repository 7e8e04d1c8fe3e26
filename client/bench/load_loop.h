// The closed-loop load driver: keeps a fixed number of calls in flight through a warm-up and
// then a measured period, starting each lane's next call from the completion of its last one.
// It knows nothing of what a call is: each benchmark phase passes a function that starts one.
#ifndef INTAKE_CLIENT_BENCH_LOAD_LOOP_H_
#define INTAKE_CLIENT_BENCH_LOAD_LOOP_H_

#include <cstdint>
#include <functional>
#include <map>

#include "absl/time/time.h"
#include "client/bench/latency.h"
#include "grpcpp/support/status.h"

namespace intake::bench {

struct LoadOptions {
  // Lanes, each with exactly one call in flight at a time. At least 1.
  int concurrency = 64;
  // Calls run but are not counted for this long first (connections, caches, allocators).
  absl::Duration warmup = absl::Seconds(2);
  // The measured period that follows. Positive.
  absl::Duration duration = absl::Seconds(10);
};

// What the measured period saw. A call counts when it completes inside the period, whenever
// it started, so the figures are completions per second of a steady state.
struct LoadResult {
  absl::Duration measured;
  uint64_t ok = 0;
  // Non-OK completions by status code.
  std::map<grpc::StatusCode, uint64_t> errors;
  // Latencies of the OK completions, from just before the call was started to its completion.
  LatencySamples ok_latencies;
  // Every call started, warm-up and drain included.
  uint64_t started = 0;

  double ok_per_second() const;
  uint64_t error_count() const;
};

// Ends a call: invoke it exactly once per started call, from any thread, with the call's final
// status code. Cheap to copy.
using CallDone = std::function<void(grpc::StatusCode)>;

// Starts call number `call_index` (0, 1, 2, ... across the run; never repeated) on `lane`
// (0 <= lane < concurrency; a lane never has two calls in flight) and arranges for `done` to
// be invoked when the call ends. Must not block: it is called from gRPC's callback threads.
// `done` must not run before this returns on the same stack (gRPC's callback API defers it).
using CallStarter = std::function<void(int lane, uint64_t call_index, CallDone done)>;

// Runs the loop and returns once every lane has stopped: about warmup + duration, plus the
// time the calls in flight at the end take to finish, which the deadlines `start_call` puts on
// them bound. Lanes stop starting calls once the measured period is over.
LoadResult RunClosedLoop(const LoadOptions& options, const CallStarter& start_call);

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_LOAD_LOOP_H_
