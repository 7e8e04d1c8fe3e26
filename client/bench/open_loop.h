// The open-loop load driver: starts calls at a fixed rate by the clock, whether or not earlier
// ones have finished, so a slow server meets the same arrival rate a real one would (a closed
// loop would slow down with it and hide the queueing). Like the closed loop, it knows nothing
// of what a call is.
#ifndef INTAKE_CLIENT_BENCH_OPEN_LOOP_H_
#define INTAKE_CLIENT_BENCH_OPEN_LOOP_H_

#include <cstdint>
#include <functional>

#include "absl/time/time.h"
#include "client/bench/load_loop.h"

namespace intake::bench {

struct OpenLoopOptions {
  // Calls started per second. Positive.
  int rate = 1000;
  // Calls are started but not counted for this long first.
  absl::Duration warmup = absl::Seconds(2);
  // The measured period that follows. Positive.
  absl::Duration duration = absl::Seconds(10);
};

struct OpenLoopResult {
  // The calls started in the measured period, however late they completed; their latencies
  // run from just before the start to the completion. `measured` is the period's length.
  LoadResult calls;
  // How far behind its schedule the driver started a measured call at worst: the client's
  // own share of any latency figure.
  absl::Duration max_start_lag;
};

// Starts call `call_index` (0, 1, 2, ... across the run; never repeated). `measured`: whether
// the call falls in the measured period. Arranges for `done` to be invoked exactly once, from
// any thread, with the call's final status code. Must not block.
using OpenLoopCallStarter = std::function<void(uint64_t call_index, bool measured, CallDone done)>;

// Runs the loop on the calling thread, call i being due at i / rate after the beginning
// (started at once when the driver is behind), for warmup + duration; then waits for every
// call still in flight, which the deadlines `start_call` puts on them bound.
OpenLoopResult RunOpenLoop(const OpenLoopOptions& options, const OpenLoopCallStarter& start_call);

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_OPEN_LOOP_H_
