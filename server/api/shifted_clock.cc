#include "server/api/shifted_clock.h"

#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/ascii.h"

namespace intake::api {

absl::Time ShiftedClock::Now() const {
  std::ifstream in(path_);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  absl::Duration shift;
  if (!absl::ParseDuration(absl::StripAsciiWhitespace(text), &shift)) {
    shift = absl::ZeroDuration();
  }
  return SystemClock::Get().Now() + shift;
}

}  // namespace intake::api
