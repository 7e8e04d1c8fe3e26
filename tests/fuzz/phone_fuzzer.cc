// The phone normaliser (UsPhoneNormalizer) on arbitrary bytes: never crashes, refuses with
// kInvalidArgument and a reason that holds no digit, and what it accepts is a NANP number in
// E.164 made of the last ten digits the person typed, which normalises to itself.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "server/domain/us_phone.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool IsNanpE164(absl::string_view e164) {
  if (e164.size() != 12 || e164.substr(0, 2) != "+1") return false;
  for (char c : e164.substr(2)) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  // NPA and NXX both start with 2-9.
  return e164[2] >= '2' && e164[5] >= '2';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const intake::UsPhoneNormalizer* const phones = new intake::UsPhoneNormalizer();
  const absl::string_view input(reinterpret_cast<const char*>(data), size);

  const absl::StatusOr<std::string> e164 = phones->ToE164(input);
  if (!e164.ok()) {
    INTAKE_FUZZ_CHECK(absl::IsInvalidArgument(e164.status()), "refusal is not kInvalidArgument");
    for (char c : e164.status().message()) {
      INTAKE_FUZZ_CHECK(!absl::ascii_isdigit(static_cast<unsigned char>(c)),
                        "a refusal's reason holds a digit");
    }
    return 0;
  }
  INTAKE_FUZZ_CHECK(IsNanpE164(*e164), "accepted number is not NANP E.164");
  std::string digits;
  for (char c : input) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
  }
  INTAKE_FUZZ_CHECK(digits.size() >= 10 && digits.substr(digits.size() - 10) == e164->substr(2),
                    "the number is not the last ten digits typed");
  const absl::StatusOr<std::string> again = phones->ToE164(*e164);
  INTAKE_FUZZ_CHECK(again.ok() && *again == *e164, "E.164 does not normalise to itself");
  return 0;
}
