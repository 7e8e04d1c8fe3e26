// The first failed call of a load phase, put on stderr, so that a report full of errors comes
// with a reason.
#ifndef INTAKE_CLIENT_BENCH_FIRST_ERROR_LOG_H_
#define INTAKE_CLIENT_BENCH_FIRST_ERROR_LOG_H_

#include <atomic>
#include <string>
#include <utility>

#include "grpcpp/support/status.h"

namespace intake::bench {

// Thread-safe; never blocks, so it may be called from gRPC's callback threads.
class FirstErrorLog {
 public:
  // `phase` names the phase in the log line ("echo", "submit", ...).
  explicit FirstErrorLog(std::string phase) : phase_(std::move(phase)) {}

  // Logs `status` if it is the phase's first non-OK one; does nothing otherwise.
  void Note(const grpc::Status& status);

 private:
  const std::string phase_;
  std::atomic<bool> logged_{false};
};

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_FIRST_ERROR_LOG_H_
