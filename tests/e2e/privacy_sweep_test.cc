// The privacy sweep: one run through everything intaked does with a caller's data (submit,
// dedup, a bot, streams, acknowledgement, contact, reassignment, disclosures, opt-out,
// erasure, purge, quarantine review, and intakectl for the privacy requests), with a unique
// marker in every personal field, bad input carrying markers too. Then a search of everything
// intaked wrote (stdout, stderr with its access log), every error message and error detail it
// returned, and its metrics page: no marker may appear anywhere.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/e2e/stream_reader.h"
#include "tests/testing/http_get.h"
#include "tests/testing/temp_dir.h"

namespace intake::testing {
namespace {

using v1::AdminService;
using v1::ProviderService;

// The caller, every personal field a marker found nowhere else.
constexpr char kName[] = "Zorblax Quintavius";
constexpr char kPhone[] = "(212) 736-5847";
constexpr char kPostalCode[] = "97531";  // Above 65535: never a port number by chance.
constexpr char kMessage[] = "Please call about the oxycodone, ask for Qwertyuiop";
constexpr char kClientIp[] = "198.51.100.77";
constexpr char kUserAgent[] = "MarkerAgent/7.7 (zorblax)";
constexpr char kReferrer[] = "https://zorblax-referrer.example/search?q=detox";
constexpr char kPageUrl[] = "https://zorblax-page.example/centers/miami";
constexpr char kNote[] = "Spoke to her mother, Xylophonia";
constexpr char kHoneypot[] = "zorblax-autofill";
// A client may use the caller's number as its idempotency key.
constexpr char kPhoneAsRequestId[] = "2127365847";

// What must never appear: each marker, and the number in every shape it may take.
const std::vector<std::string>& Markers() {
  static const auto* markers = new std::vector<std::string>{
      "Zorblax", "zorblax",   "Quintavius", "7365847",       "736-5847",    "736.5847",  "736 5847",
      "97531",   "oxycodone", "Qwertyuiop", "198.51.100.77", "MarkerAgent", "Xylophonia"};
  return *markers;
}

// Every marker found in `text`.
std::vector<std::string> MarkersIn(const std::string& text) {
  std::vector<std::string> found;
  for (const std::string& marker : Markers()) {
    if (absl::StrContains(text, marker)) found.push_back(marker);
  }
  return found;
}

// The Prometheus text `metrics` without its sample values: names, labels and help, where a
// caller's data could leak. A value is a number that may hold a digit marker by chance
// (a latency sum of 0.00097531...).
std::string WithoutSampleValues(const std::string& metrics) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, "#")) line = line.substr(0, line.rfind(' '));
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

v1::SubmitCallbackRequest MarkedRequest(const std::string& listing_id) {
  v1::SubmitCallbackRequest r;
  r.set_listing_id(listing_id);
  r.mutable_caller()->set_name(kName);
  r.mutable_caller()->set_phone(kPhone);
  r.mutable_caller()->set_postal_code(kPostalCode);
  r.mutable_caller()->set_region("NY");
  r.mutable_consent()->set_granted(true);
  r.mutable_consent()->set_text("I agree to be called back.");
  r.mutable_form()->set_form_id("zorblax-form");
  r.mutable_form()->set_page_url(kPageUrl);
  r.mutable_form()->set_referrer(kReferrer);
  r.mutable_form()->set_user_agent(kUserAgent);
  r.mutable_form()->set_client_ip(kClientIp);
  r.mutable_form()->set_utm_source("zorblaxsrc");
  r.mutable_form()->set_utm_medium("zorblaxmed");
  r.mutable_form()->set_utm_campaign("zorblaxcmp");
  r.set_message(kMessage);
  return r;
}

class PrivacySweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = IntakedProcess::Start({}, checkout_.File("var"));
    ASSERT_NE(server_, nullptr);
    ASSERT_FALSE(server_->metrics_address().empty());
    admin_ = AdminService::NewStub(server_->AdminChannel());
    intake_ = v1::IntakeService::NewStub(server_->PublicChannel());
    provider_ = ProviderService::NewStub(server_->PublicChannel());
    admin_token_ = server_->AdminToken();
  }

  // Keeps a refused call's message and details for the search; the call must have failed.
  void Refused(const grpc::Status& status, const std::string& what) {
    EXPECT_FALSE(status.ok()) << what;
    errors_.push_back(
        absl::StrCat(what, ": ", status.error_message(), " ", status.error_details()));
  }

  // Runs intakectl with `args` in the checkout (./var holds the admin token); returns its exit
  // code, its stdout in `out` and its stderr in `err`.
  int Ctl(const std::vector<std::string>& args, std::string* out, std::string* err) {
    std::string command =
        absl::StrCat("cd '", checkout_.path(), "' && INTAKE_ADDR=", server_->admin_address(),
                     " INTAKE_PUBLIC_ADDR=", server_->listen_address(), " '", INTAKECTL_PATH, "'");
    for (const std::string& arg : args) absl::StrAppend(&command, " '", arg, "'");
    absl::StrAppend(&command, " >ctl.out 2>ctl.err");
    const int status = std::system(command.c_str());
    *out = ReadFile(checkout_.File("ctl.out"));
    *err = ReadFile(checkout_.File("ctl.err"));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  TempDir checkout_;
  std::unique_ptr<IntakedProcess> server_;
  std::unique_ptr<AdminService::Stub> admin_;
  std::unique_ptr<v1::IntakeService::Stub> intake_;
  std::unique_ptr<ProviderService::Stub> provider_;
  std::string admin_token_;
  // Every error message and detail intaked returned, and what intakectl printed of them.
  std::vector<std::string> errors_;
};

TEST_F(PrivacySweepTest, NoMarkerOfACallerAppearsInAnyLogErrorOrMetric) {
  // Two providers with a listing and a dashboard token each.
  std::vector<std::string> tokens;
  for (const std::string id : {"a", "b"}) {
    tokens.push_back(CreateTestProvider(*admin_, admin_token_, id, {"-listing"}, "NY").token);
  }
  ASSERT_FALSE(::testing::Test::HasFailure());
  const std::string& a = tokens[0];
  const std::string& b = tokens[1];

  // Submit, a retry of the same request, a duplicate, a bot.
  v1::SubmitCallbackRequest first = MarkedRequest("a-listing");
  first.set_request_id(kPhoneAsRequestId);
  v1::SubmitCallbackResponse submitted;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(intake_->SubmitCallback(Context().get(), first, &submitted).ok());
  }
  v1::SubmitCallbackRequest duplicate = MarkedRequest("a-listing");
  duplicate.set_request_id("zorblax-retry");
  ASSERT_TRUE(intake_->SubmitCallback(Context().get(), duplicate, &submitted).ok());
  v1::SubmitCallbackRequest bot = MarkedRequest("");
  bot.set_honeypot(kHoneypot);
  ASSERT_TRUE(intake_->SubmitCallback(Context().get(), bot, &submitted).ok());
  // Bad submissions whose every field carries a marker.
  {
    v1::SubmitCallbackRequest bad = MarkedRequest("a-listing");
    bad.mutable_caller()->set_phone("(212) 736-584");
    bad.mutable_caller()->set_name(absl::StrCat(kName, "\x01"));
    bad.mutable_caller()->set_postal_code(absl::StrCat(kPostalCode, "-zorblax"));
    bad.mutable_caller()->set_region("Zorblaxia");
    bad.set_message(std::string(1001, 'Z') + kMessage);
    bad.set_request_id("zorblax request 7365847");
    bad.mutable_form()->set_client_ip("zorblax-ip-7365847");
    Refused(intake_->SubmitCallback(Context().get(), bad, &submitted), "bad submission");
    v1::SubmitCallbackRequest unknown = MarkedRequest("zorblax-listing");
    Refused(intake_->SubmitCallback(Context().get(), unknown, &submitted), "unknown listing");
    v1::SubmitCallbackRequest reused = MarkedRequest("a-listing");
    reused.set_request_id(kPhoneAsRequestId);
    reused.set_message("another message, zorblax");
    Refused(intake_->SubmitCallback(Context().get(), reused, &submitted), "reused request_id");
  }

  // a's dashboard receives the lead; a acknowledges and records a call with a note.
  const StreamRead stream = Subscribe(provider_.get(), a, 0, 2);
  ASSERT_EQ(stream.events.size(), 2u) << "ASSIGNED, RESUBMITTED";
  const std::string lead_id = stream.events[0].lead().lead_id();
  ASSERT_EQ(stream.events[0].lead().caller().name(), kName) << "the markers are the lead's data";
  v1::AcknowledgeLeadRequest ack;
  ack.set_lead_id(lead_id);
  v1::AcknowledgeLeadResponse acked;
  ASSERT_TRUE(provider_->AcknowledgeLead(Context(a).get(), ack, &acked).ok());
  v1::RecordContactAttemptRequest contact;
  contact.set_lead_id(lead_id);
  contact.set_outcome(v1::CONTACT_OUTCOME_LEFT_VOICEMAIL);
  contact.set_note(kNote);
  v1::RecordContactAttemptResponse contacted;
  ASSERT_TRUE(provider_->RecordContactAttempt(Context(a).get(), contact, &contacted).ok());
  contact.set_note(absl::StrCat(kNote, "\x07"));
  Refused(provider_->RecordContactAttempt(Context(a).get(), contact, &contacted), "bad note");
  v1::GetLeadRequest get;
  get.set_lead_id(kPhoneAsRequestId);
  v1::GetLeadResponse got;
  Refused(provider_->GetLead(Context(a).get(), get, &got), "a phone as lead id");
  get.set_lead_id(std::string(65, 'Z') + kPhoneAsRequestId);
  Refused(provider_->GetLead(Context(a).get(), get, &got), "a long lead id");
  Refused(provider_->GetLead(Context(kPhoneAsRequestId).get(), get, &got), "a phone as token");

  // Ops move it to b, whose dashboard and list receive it.
  v1::ReassignLeadRequest reassign;
  reassign.set_lead_id(lead_id);
  reassign.set_provider_id("b");
  v1::ReassignLeadResponse moved;
  ASSERT_TRUE(admin_->ReassignLead(Context(admin_token_).get(), reassign, &moved).ok());
  ASSERT_EQ(Subscribe(provider_.get(), b, 0, 1).events.size(), 1u);
  v1::ListLeadsRequest list;
  v1::ListLeadsResponse listed;
  ASSERT_TRUE(provider_->ListLeads(Context(b).get(), list, &listed).ok());
  v1::WatchLeadsRequest watch;
  auto watch_context = Context(admin_token_);
  auto watcher = admin_->WatchLeads(watch_context.get(), watch);
  v1::WatchLeadsResponse watched;
  ASSERT_TRUE(watcher->Read(&watched));
  watch_context->TryCancel();
  (void)watcher->Finish();

  // Quarantine review: the bot's submission listed and released (a second bot stays held
  // until the erasure); a made-up id refused.
  v1::SubmitCallbackRequest second_bot = MarkedRequest("a-listing");
  second_bot.set_honeypot(kHoneypot);
  ASSERT_TRUE(intake_->SubmitCallback(Context().get(), second_bot, &submitted).ok());
  v1::ListQuarantinedSubmissionsRequest held_request;
  v1::ListQuarantinedSubmissionsResponse held;
  ASSERT_TRUE(
      admin_->ListQuarantinedSubmissions(Context(admin_token_).get(), held_request, &held).ok());
  ASSERT_EQ(held.submissions_size(), 2);
  v1::ReleaseQuarantinedSubmissionRequest release;
  release.set_submission_id(held.submissions(1).submission_id());
  v1::ReleaseQuarantinedSubmissionResponse released;
  ASSERT_TRUE(
      admin_->ReleaseQuarantinedSubmission(Context(admin_token_).get(), release, &released).ok());
  release.set_submission_id(kPhoneAsRequestId);
  Refused(admin_->ReleaseQuarantinedSubmission(Context(admin_token_).get(), release, &released),
          "a phone as submission id");

  // Bad privacy requests carrying the number.
  for (const std::string& phone : {std::string("(212) 736-584"), std::string("736-5847"),
                                   std::string("Zorblax 212 736 5847")}) {
    v1::RecordOptOutRequest optout;
    optout.set_phone(phone);
    v1::RecordOptOutResponse opted;
    Refused(admin_->RecordOptOut(Context(admin_token_).get(), optout, &opted), "bad opt-out");
    v1::EraseCallerRequest erase;
    erase.set_phone(phone);
    v1::EraseCallerResponse erased;
    Refused(admin_->EraseCaller(Context(admin_token_).get(), erase, &erased), "bad erasure");
    v1::ListDisclosuresRequest disclosures;
    disclosures.set_phone(phone);
    v1::ListDisclosuresResponse listed_disclosures;
    Refused(admin_->ListDisclosures(Context(admin_token_).get(), disclosures, &listed_disclosures),
            "bad disclosures");
  }

  // intakectl: the caller's data is there to be shown (the markers are findable), then the
  // privacy requests, and the same requests with a bad number.
  std::string out, err;
  ASSERT_EQ(Ctl({"leads", "get", "--lead=" + lead_id, "--show-pii"}, &out, &err), 0) << err;
  EXPECT_THAT(MarkersIn(out), ::testing::IsSupersetOf({"Zorblax", "Quintavius", "7365847", "97531",
                                                       "oxycodone", "Qwertyuiop"}))
      << "the caller's data, shown on request, is what the search looks for:\n"
      << out;
  ASSERT_EQ(Ctl({"submit", "--phone=" + std::string(kPhone), "--name=" + std::string(kName),
                 "--region=NY", "--listing=b-listing", "--consent_text=I agree.",
                 "--message=" + std::string(kMessage)},
                &out, &err),
            0)
      << err;
  ASSERT_EQ(Ctl({"disclosures", "--phone=" + std::string(kPhone)}, &out, &err), 0) << err;
  EXPECT_TRUE(absl::StrContains(out, lead_id)) << out;
  ASSERT_EQ(Ctl({"quarantine", "list"}, &out, &err), 0) << err;
  EXPECT_EQ(MarkersIn(out), std::vector<std::string>{}) << "masked without --show-pii:\n" << out;
  ASSERT_EQ(Ctl({"optout", "--phone=" + std::string(kPhone)}, &out, &err), 0) << err;
  EXPECT_EQ(out, "opted out 3 lead(s)\n") << "the listing's, the released bot's, intakectl's";
  ASSERT_EQ(Ctl({"erase", "--phone=212.736.5847", "--yes"}, &out, &err), 0) << err;
  EXPECT_EQ(out, "erased 3 lead(s)\n");
  ASSERT_EQ(Ctl({"purge", "--older_than=1s", "--yes"}, &out, &err), 0) << err;
  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
           {"optout", "--phone=(212) 736-584"},
           {"erase", "--phone=736-5847", "--yes"},
           {"disclosures", "--phone=Zorblax 2127365847"},
           {"submit", "--phone=(212) 736-584", "--name=Zorblax", "--region=NY",
            "--consent_text=I agree."},
           {"leads", "get", "--lead=2127365847"},
           {"quarantine", "release", "--submission=2127365847"}}) {
    EXPECT_NE(Ctl(bad, &out, &err), 0) << absl::StrJoin(bad, " ");
    errors_.push_back(absl::StrCat(absl::StrJoin(bad, " "), " → ", out, err));
  }

  // The metrics page, then everything intaked wrote up to its exit.
  absl::StatusOr<std::string> metrics = HttpGet(server_->metrics_address(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const ExitResult stopped = server_->Stop(SIGTERM);
  ASSERT_EQ(stopped.exit_code, 0) << stopped.stderr_text;
  EXPECT_TRUE(absl::StrContains(stopped.stderr_text, "method=/intake.v1.ProviderService/GetLead"))
      << "the access log is part of the search:\n"
      << stopped.stderr_text;

  EXPECT_EQ(MarkersIn(stopped.stdout_text), std::vector<std::string>{}) << stopped.stdout_text;
  EXPECT_EQ(MarkersIn(stopped.stderr_text), std::vector<std::string>{}) << stopped.stderr_text;
  EXPECT_EQ(MarkersIn(WithoutSampleValues(*metrics)), std::vector<std::string>{}) << *metrics;
  ASSERT_EQ(MarkersIn(WithoutSampleValues("m{code=\"97531\"} 0.00097531\nn 97531\n")),
            std::vector<std::string>{"97531"})
      << "a label still counts; a value does not";
  EXPECT_TRUE(absl::StrContains(*metrics, "\nintake_disclosures_dropped_total 0\n")) << *metrics;
  ASSERT_GE(errors_.size(), 20u);
  for (const std::string& error : errors_) {
    // intakectl's own usage errors may quote what was typed on its command line; what comes
    // from intaked may not. The command line is the part before the arrow.
    const std::string reply =
        error.substr(error.find("→") == std::string::npos ? error.find(':') + 1 : error.find("→"));
    EXPECT_EQ(MarkersIn(reply), std::vector<std::string>{}) << error;
  }
}

}  // namespace
}  // namespace intake::testing
