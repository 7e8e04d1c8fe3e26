// The submit benchmark, the performance budget's first row: SubmitCallback throughput from
// unique callers at a fixed number of calls in flight, as a ratio to a bare echo server
// carrying the same bytes, measured in the same run on the same machine.
#ifndef INTAKE_CLIENT_BENCH_SUBMIT_MODE_H_
#define INTAKE_CLIENT_BENCH_SUBMIT_MODE_H_

#include "client/bench/bench_config.h"

namespace intake::bench {

// Runs the echo phase, then the SubmitCallback phase, each for config.warmup +
// config.duration, and prints one JSON object on stdout (progress goes to stderr). Returns the
// process exit code: 0 when it ran, failed calls included (they are counted by status code in
// the report); 1 when the server under test or the echo server could not be started or
// connected to.
int RunSubmitMode(const BenchConfig& config);

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_SUBMIT_MODE_H_
