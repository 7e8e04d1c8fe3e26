#include "client/bench/first_error_log.h"

#include <iostream>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace intake::bench {

void FirstErrorLog::Note(const grpc::Status& status) {
  if (status.ok() || logged_.exchange(true)) return;
  std::cerr << absl::StrFormat(
      "intake-bench: %s: first failed call: %s: %s\n", phase_,
      absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
      status.error_message());
}

}  // namespace intake::bench
