// The delivery benchmark, the performance budget's second row: leads submitted at a fixed
// rate, open loop, to a listing whose provider holds a SubscribeLeads stream, and the time from
// each submission to its lead's arrival on that stream. The echo baseline is measured in the
// same run, as in the submit mode, so figures from different machines stay comparable; so is
// the disk floor (disk_floor.h), what the disk alone allows a design that stores before it
// delivers.
#ifndef INTAKE_CLIENT_BENCH_DELIVERY_MODE_H_
#define INTAKE_CLIENT_BENCH_DELIVERY_MODE_H_

#include "client/bench/bench_config.h"

namespace intake::bench {

// Creates (through AdminService) a provider, a listing it owns and a token for it; runs the
// echo phase; measures the disk floor in config.floor_dir, else in the spawned intaked's data
// directory (not at all for a --target server without it); subscribes as the provider;
// submits config.rate leads per second to the listing for config.warmup + config.duration;
// waits up to 5 s for the measured leads still on their way; and prints one JSON object on
// stdout (progress goes to stderr). A --target server needs config.admin_target and
// config.admin_token_file. Returns the process exit code: 0 when it ran, failed calls and
// lost leads included (the report counts them); 1 when the server under test or the echo
// server could not be started, connected to or set up, or the disk floor met an I/O error.
int RunDeliveryMode(const BenchConfig& config);

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_DELIVERY_MODE_H_
