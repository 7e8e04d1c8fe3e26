// Pieces of the one JSON object intake-bench prints on stdout (what a load phase measured, and
// what the machine was), and the progress lines it prints on stderr.
#ifndef INTAKE_CLIENT_BENCH_REPORT_H_
#define INTAKE_CLIENT_BENCH_REPORT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/bench/load_loop.h"

namespace intake::bench {

// {"calls_per_s": OK calls per second, "ok": N, "p50_ms": .., "p99_ms": .., "errors": N,
// "error_codes": {"UNIMPLEMENTED": N, ...}}; the percentiles are of OK calls, null when there
// were none. Not const: computing percentiles sorts the samples.
std::string LoadResultJson(LoadResult& result);

// A latency in milliseconds with three decimals, as a JSON number; null for nullopt.
std::string MillisJson(std::optional<absl::Duration> latency);

// `text` as a JSON string literal, quotes included.
std::string JsonString(absl::string_view text);

// The type of the file system holding `path`, as /proc/mounts names it ("tmpfs", "ext4" (for
// ext2 and ext3 too), "xfs", "btrfs", "overlay"; "0x<magic>" for others), or "" if it cannot be
// told.
std::string FileSystemName(const std::string& path);

// CPUs this process may run on (its affinity mask), else the machine's count.
int AvailableCpus();

// "intake-bench: <phase>: <N> calls/s, <N> errors" on stderr.
void LogPhase(absl::string_view phase, const LoadResult& result);

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_REPORT_H_
