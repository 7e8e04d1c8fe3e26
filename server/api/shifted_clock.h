// A clock for end-to-end tests of the real intaked that need days to pass (retention,
// quarantine expiry): the system clock, shifted by the duration a file holds.
#ifndef INTAKE_SERVER_API_SHIFTED_CLOCK_H_
#define INTAKE_SERVER_API_SHIFTED_CLOCK_H_

#include <string>
#include <utility>

#include "absl/time/time.h"
#include "server/domain/clock.h"

namespace intake::api {

// Now() is the system's time plus the duration (absl::ParseDuration: "49h", "-2h30m") that
// the file at `path` holds when Now() is called, so a test moves intaked's time by rewriting
// the file (atomically: write another file, then rename it over this one). A missing, empty
// or unreadable file means no shift. Reads the file at every call: for tests only.
// Thread-safe.
class ShiftedClock final : public Clock {
 public:
  explicit ShiftedClock(std::string path) : path_(std::move(path)) {}
  absl::Time Now() const override;

 private:
  const std::string path_;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_SHIFTED_CLOCK_H_
