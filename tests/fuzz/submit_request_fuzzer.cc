// SubmitCallbackRequest bytes through what IntakeService does before the store: parse,
// convert (api::FromProto), validate and normalise (ValidateSubmission with the real phone
// normaliser), and turn violations into the gRPC status a caller gets. Properties:
// - nothing crashes, leaks or reads out of bounds, whatever the bytes;
// - a refusal is INVALID_ARGUMENT with a google.rpc.BadRequest, leaves the submission as it
//   was, and never echoes the caller's phone digits, name, postal code or message;
// - an accepted submission is normalised (E.164 phone, upper-case region) and validating it
//   again accepts it unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "intake/v1/intake_service.pb.h"
#include "server/api/convert.h"
#include "server/api/status.h"
#include "server/domain/submission.h"
#include "server/domain/us_phone.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using intake::Submission;
using intake::fuzz::ContainsUntraced;

// Every field, so that "left as it was" and "unchanged" can be checked whole.
std::vector<std::string> Fields(const Submission& s) {
  std::vector<std::string> fields = {s.request_id,
                                     s.listing_id,
                                     s.caller_name,
                                     s.phone,
                                     s.postal_code,
                                     s.region,
                                     s.consent_granted ? "1" : "0",
                                     s.consent_text,
                                     s.honeypot,
                                     s.form.form_id,
                                     s.form.page_url,
                                     s.form.referrer,
                                     s.form.user_agent,
                                     s.form.client_ip,
                                     s.form.utm_source,
                                     s.form.utm_medium,
                                     s.form.utm_campaign,
                                     s.message};
  fields.insert(fields.end(), s.advertisers.begin(), s.advertisers.end());
  return fields;
}

// The caller's personal data must never come back in an error. Short values are skipped:
// "ok" or "FL" may well be part of an English description.
void CheckNoEcho(const Submission& s, absl::string_view reply) {
  constexpr size_t kShortest = 12;
  for (const std::string* value : {&s.caller_name, &s.postal_code, &s.message}) {
    if (value->size() >= kShortest) {
      INTAKE_FUZZ_CHECK(!ContainsUntraced(reply, *value), "an error echoes personal data");
    }
  }
  // Any seven of the phone's digits in a row would identify the number.
  std::string digits;
  for (char c : s.phone) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
  }
  for (size_t i = 0; i + 7 <= digits.size(); ++i) {
    INTAKE_FUZZ_CHECK(!ContainsUntraced(reply, absl::string_view(digits).substr(i, 7)),
                      "an error echoes the phone number");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const intake::UsPhoneNormalizer* const phones = new intake::UsPhoneNormalizer();
  intake::v1::SubmitCallbackRequest request;
  // gRPC refuses what does not parse before the service sees it.
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;

  Submission submission = intake::api::FromProto(request);
  const Submission received = submission;
  const intake::FieldViolations violations = intake::ValidateSubmission(submission, *phones);
  (void)intake::IsBot(submission);

  if (!violations.empty()) {
    INTAKE_FUZZ_CHECK(Fields(submission) == Fields(received), "a refused submission was changed");
    const grpc::Status status = intake::api::ToGrpcStatus(intake::api::BadRequest(violations));
    INTAKE_FUZZ_CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT,
                      "a refusal is not INVALID_ARGUMENT");
    google::rpc::Status details;
    INTAKE_FUZZ_CHECK(details.ParseFromString(status.error_details()),
                      "the status details are not a google.rpc.Status");
    google::rpc::BadRequest bad_request;
    INTAKE_FUZZ_CHECK(
        details.details_size() == 1 && details.details(0).UnpackTo(&bad_request) &&
            bad_request.field_violations_size() == static_cast<int>(violations.size()),
        "the BadRequest does not list every violation");
    CheckNoEcho(received, status.error_message());
    CheckNoEcho(received, status.error_details());
    return 0;
  }

  INTAKE_FUZZ_CHECK(submission.phone.size() == 12 && submission.phone.substr(0, 2) == "+1",
                    "an accepted phone is not E.164");
  INTAKE_FUZZ_CHECK(submission.region == absl::AsciiStrToUpper(submission.region),
                    "an accepted region is not upper case");
  Submission again = submission;
  INTAKE_FUZZ_CHECK(intake::ValidateSubmission(again, *phones).empty(),
                    "a normalised submission is refused");
  INTAKE_FUZZ_CHECK(Fields(again) == Fields(submission), "normalising is not idempotent");
  return 0;
}
