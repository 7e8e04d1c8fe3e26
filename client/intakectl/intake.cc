// submit: IntakeService.SubmitCallback, as a web page's backend would call it; for trying a
// setup end to end and for support.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/intakectl/command.h"
#include "client/intakectl/unary_call.h"
#include "intake/v1/intake_service.grpc.pb.h"

namespace intake::ctl {
namespace {

constexpr size_t kMaxRequestIdChars = 64;

bool IsValidRequestId(absl::string_view id) {
  if (id.size() > kMaxRequestIdChars) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

int Submit(const Invocation& run) {
  v1::SubmitCallbackRequest request;
  v1::Caller* caller = request.mutable_caller();
  v1::Consent* consent = request.mutable_consent();
  v1::FormContext* form = request.mutable_form();
  std::vector<std::string> advertisers;
  // The phone is checked by the server (libphonenumber); here only for presence.
  if (!run.flags.Text("phone", /*required=*/true, caller->mutable_phone()) ||
      !run.flags.Text("name", /*required=*/false, caller->mutable_name()) ||
      !run.flags.Text("postal_code", /*required=*/false, caller->mutable_postal_code()) ||
      !run.flags.Region("region", /*required=*/false, caller->mutable_region()) ||
      !run.flags.Id("listing", /*required=*/false, request.mutable_listing_id()) ||
      !run.flags.Text("consent_text", /*required=*/true, consent->mutable_text()) ||
      !run.flags.List("advertisers", &advertisers) ||
      !run.flags.Text("message", /*required=*/false, request.mutable_message()) ||
      !run.flags.Text("request_id", /*required=*/false, request.mutable_request_id()) ||
      !run.flags.Text("form_id", /*required=*/false, form->mutable_form_id()) ||
      !run.flags.Text("page_url", /*required=*/false, form->mutable_page_url())) {
    return kExitUsage;
  }
  if (!IsValidRequestId(request.request_id())) {
    UsageError("--request_id: must be at most 64 of A-Z, a-z, 0-9, '_' and '-'");
    return kExitUsage;
  }
  // Giving the consent text is the operator's statement that the caller ticked the box.
  consent->set_granted(true);
  *consent->mutable_advertisers() = {advertisers.begin(), advertisers.end()};
  return RunUnary(
      run, Listener::kPublic, Credential::kIntakeKey, &v1::IntakeService::Stub::SubmitCallback,
      request, [](const v1::SubmitCallbackResponse& r) {
        const v1::ResponseStats& s = r.typical_response();
        PrintRecord(
            {{"submission", r.submission_id()},
             {"typical response",
              FormatMedianResponse(s.median_response_seconds(), s.sample_size())},
             {"response rate", FormatResponseRate(s.response_rate(), s.sample_size())},
             {"sample", absl::StrCat(s.sample_size(), " leads in ", s.window_days(), " days")}},
            std::cout);
      });
}

}  // namespace

std::vector<Command> IntakeCommands() {
  return {
      {"",
       "submit",
       "Submit a callback request through IntakeService (public listener), as a form would.",
       "intakectl submit --phone=\"(305) 736-5000\" --name=\"Sam\" --region=FL "
       "--listing=acme-miami --consent_text=\"I agree to be called back by Acme Recovery.\"",
       {{"phone", "PHONE", "the number to call back, any common US format (required)"},
        {"name", "TEXT", "the caller's name"},
        {"postal_code", "ZIP", "the caller's ZIP code"},
        {"region", "STATE", "the caller's state, e.g. FL"},
        {"listing", "ID", "the listing the form is on; none for the general helpline"},
        {"consent_text", "TEXT",
         "the consent text the caller agreed to, verbatim (required; states consent was given)"},
        {"advertisers", "LIST", "the paid advertisers the consent text names, comma-separated"},
        {"message", "TEXT", "the caller's message"},
        {"request_id", "ID", "idempotency key: a retry with the same one changes nothing"},
        {"form_id", "TEXT", "the site's id of the form"},
        {"page_url", "URL", "the page the form is on"}},
       Submit},
  };
}

}  // namespace intake::ctl
