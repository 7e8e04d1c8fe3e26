// Pieces of the one JSON object intake-bench prints on stdout: what a load phase measured, and
// what the machine was.
#ifndef INTAKE_CLIENT_BENCH_REPORT_H_
#define INTAKE_CLIENT_BENCH_REPORT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "client/bench/load_loop.h"

namespace intake::bench {

// {"calls_per_s": OK calls per second, "ok": N, "p50_ms": .., "p99_ms": .., "errors": N,
// "error_codes": {"UNIMPLEMENTED": N, ...}}; the percentiles are of OK calls, null when there
// were none. Not const: computing percentiles sorts the samples.
std::string LoadResultJson(LoadResult& result);

// `text` as a JSON string literal, quotes included.
std::string JsonString(absl::string_view text);

// CPUs this process may run on (its affinity mask), else the machine's count.
int AvailableCpus();

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_REPORT_H_
