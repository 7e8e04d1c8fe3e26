// The baseline phase every mode reports against: closed-loop calls to a bare echo server in
// this process, carrying the bytes of the mode's own SubmitCallback requests, so the
// performance budget's ratios compare like with like in the same run on the same machine.
#ifndef INTAKE_CLIENT_BENCH_ECHO_PHASE_H_
#define INTAKE_CLIENT_BENCH_ECHO_PHASE_H_

#include "absl/status/statusor.h"
#include "client/bench/bench_config.h"
#include "client/bench/load_loop.h"
#include "client/bench/synthetic_submissions.h"

namespace intake::bench {

// Starts an EchoServer, connects config.channels channels to it and runs `load` against it,
// each call building and serializing a fresh request from `submissions` (so the client pays
// what a submit costs it) with a deadline of config.call_timeout. The server and channels are
// gone when it returns. Progress goes to stderr. Returns kUnavailable when the echo server
// cannot be started or connected to.
absl::StatusOr<LoadResult> RunEchoPhase(const BenchConfig& config, const LoadOptions& load,
                                        const SyntheticSubmissions& submissions);

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_ECHO_PHASE_H_
