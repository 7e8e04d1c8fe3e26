// Signed page tokens (api::PageTokens) on arbitrary bytes: the input is a scope, a resume key
// and a token. Properties:
// - a token the server issues for (scope, after) decodes to `after` for that scope, and is
//   refused for any other scope;
// - any other bytes are refused with INVALID_ARGUMENT, a message that does not repeat them,
//   or, if accepted, name no resume point but the one the server issued: a forged or altered
//   token never makes a listing resume where the sender chose.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "server/api/paging.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const intake::api::PageTokens* const tokens =
      new intake::api::PageTokens(std::string(intake::api::PageTokens::kKeyBytes, 'k'));
  FuzzedDataProvider input(data, size);
  const std::string scope = input.ConsumeRandomLengthString(96);
  const std::string after = input.ConsumeRandomLengthString(160);
  const std::string token = input.ConsumeRemainingBytesAsString();

  std::string issued;
  if (!after.empty()) {
    issued = tokens->Encode(scope, after);
    const absl::StatusOr<std::string> back = tokens->Decode(scope, issued);
    INTAKE_FUZZ_CHECK(back.ok() && *back == after, "an issued token does not round-trip");
    INTAKE_FUZZ_CHECK(!tokens->Decode(scope + "/other", issued).ok(),
                      "a token is accepted for another scope");
  }

  const absl::StatusOr<std::string> decoded = tokens->Decode(scope, token);
  if (!decoded.ok()) {
    INTAKE_FUZZ_CHECK(absl::IsInvalidArgument(decoded.status()), "refusal is not kInvalidArgument");
    if (token.size() >= 12) {
      INTAKE_FUZZ_CHECK(!intake::fuzz::ContainsUntraced(decoded.status().message(), token),
                        "a refusal repeats the token");
    }
    return 0;
  }
  INTAKE_FUZZ_CHECK(token.empty() ? decoded->empty() : (!after.empty() && *decoded == after),
                    "a token the server did not issue names a resume point");
  return 0;
}
