// Quarantine review and retention end to end, against the real intaked: what
// ListQuarantinedSubmissions and ReleaseQuarantinedSubmission promise in admin_service.proto,
// and the background sweep of --pii_retention and the 7-day quarantine, with intaked's clock
// moved by --clock_offset_file.
#include <signal.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "tests/e2e/database.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/e2e/stream_reader.h"
#include "tests/testing/temp_dir.h"

namespace intake::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr absl::Duration kQuarantineDays = absl::Hours(24 * 7);

class QuarantineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetClockOffset("0s");
    Start({});
  }

  // (Re)starts intaked on the same data directory, its clock shifted by the offset file.
  void Start(std::vector<std::string> args) {
    args.push_back("--clock_offset_file=" + clock_file_);
    server_ = IntakedProcess::Start(args, dir_.File("var"));
    ASSERT_NE(server_, nullptr);
    admin_ = v1::AdminService::NewStub(server_->AdminChannel());
    intake_ = v1::IntakeService::NewStub(server_->PublicChannel());
    provider_ = v1::ProviderService::NewStub(server_->PublicChannel());
    admin_token_ = server_->AdminToken();
  }

  // Moves intaked's clock `offset` (e.g. "49h") ahead of the system's, at once.
  void SetClockOffset(const std::string& offset) {
    const std::string tmp = clock_file_ + ".tmp";
    std::ofstream(tmp) << offset << "\n";
    std::filesystem::rename(tmp, clock_file_);
  }

  std::string db() const { return dir_.File("var") + "/intake.db"; }

  // A provider with a listing "<id>-listing"; returns its token.
  std::string AddProvider(const std::string& id) {
    return CreateTestProvider(*admin_, admin_token_, id).token;
  }

  // A request from `phone` for `listing_id` with every field filled; a bot's if `honeypot`.
  static v1::SubmitCallbackRequest Request(const std::string& phone, const std::string& listing_id,
                                           const std::string& honeypot = "") {
    v1::SubmitCallbackRequest r = ValidRequest(phone);
    r.set_listing_id(listing_id);
    r.set_honeypot(honeypot);
    r.mutable_consent()->add_advertisers("Blue Harbor");
    r.mutable_form()->set_referrer("https://search.example/?q=detox");
    r.mutable_form()->set_user_agent("Mozilla/5.0 (X11; Linux x86_64)");
    r.mutable_form()->set_client_ip("198.51.100.23");
    r.mutable_form()->set_utm_source("news");
    r.mutable_form()->set_utm_medium("email");
    r.mutable_form()->set_utm_campaign("spring");
    return r;
  }
  // Submits `r` and returns its submission_id.
  std::string Submit(const v1::SubmitCallbackRequest& r) {
    v1::SubmitCallbackResponse response;
    const grpc::Status status = intake_->SubmitCallback(Context().get(), r, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.submission_id();
  }
  // The lead a submission from `phone` for `listing_id` became or joined.
  std::string LeadOf(const std::string& e164, const std::string& listing_id) {
    v1::AdminServiceListLeadsRequest list;
    list.set_page_size(1000);
    v1::AdminServiceListLeadsResponse leads;
    EXPECT_TRUE(admin_->ListLeads(Context(admin_token_).get(), list, &leads).ok());
    for (const v1::Lead& lead : leads.leads()) {
      if (lead.caller().phone() == e164 && lead.listing_id() == listing_id) return lead.lead_id();
    }
    ADD_FAILURE() << "no lead";
    return "";
  }

  grpc::Status List(v1::ListQuarantinedSubmissionsResponse* response, int page_size = 0,
                    const std::string& page_token = "") {
    v1::ListQuarantinedSubmissionsRequest request;
    request.set_page_size(page_size);
    request.set_page_token(page_token);
    return admin_->ListQuarantinedSubmissions(Context(admin_token_).get(), request, response);
  }
  std::vector<std::string> ListedIds() {
    v1::ListQuarantinedSubmissionsResponse response;
    const grpc::Status status = List(&response, 1000);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> ids;
    for (const auto& held : response.submissions()) ids.push_back(held.submission_id());
    return ids;
  }
  grpc::Status Release(const std::string& submission_id, v1::Lead* lead = nullptr) {
    v1::ReleaseQuarantinedSubmissionRequest request;
    request.set_submission_id(submission_id);
    v1::ReleaseQuarantinedSubmissionResponse response;
    grpc::Status status =
        admin_->ReleaseQuarantinedSubmission(Context(admin_token_).get(), request, &response);
    if (lead != nullptr) *lead = response.lead();
    return status;
  }
  v1::AdminServiceGetLeadResponse AdminGetLead(const std::string& lead_id) {
    v1::AdminServiceGetLeadRequest request;
    request.set_lead_id(lead_id);
    v1::AdminServiceGetLeadResponse response;
    const grpc::Status status = admin_->GetLead(Context(admin_token_).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
  // "<TYPE> <lead_id>" of the next `count` events of `token`'s stream after `after`.
  std::vector<std::string> Events(const std::string& token, uint64_t after, size_t count,
                                  std::vector<v1::SubscribeLeadsResponse>* raw = nullptr) {
    const StreamRead read = Subscribe(provider_.get(), token, after, count);
    EXPECT_EQ(read.events.size(), count) << read.status.error_message();
    std::vector<std::string> out;
    for (const auto& e : read.events) {
      out.push_back(absl::StrCat(v1::LeadEventType_Name(e.type()), " ", e.lead().lead_id()));
    }
    if (raw != nullptr) *raw = read.events;
    return out;
  }
  // Every event of the log, for "nothing changed" checks.
  int64_t EventCount() { return QueryInt(db(), "SELECT count(*) FROM lead_events"); }

  TempDir dir_;
  const std::string clock_file_ = dir_.File("clock-offset");
  std::unique_ptr<IntakedProcess> server_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::IntakeService::Stub> intake_;
  std::unique_ptr<v1::ProviderService::Stub> provider_;
  std::string admin_token_;
};

TEST_F(QuarantineTest, ListsEveryFieldAsSubmittedNewestFirstPageByPage) {
  AddProvider("a");
  for (const char* phone : {"(212) 736-5000", "(212) 736-5009"}) {
    ASSERT_FALSE(Submit(Request(phone, "a-listing")).empty()) << "no bot: never listed";
  }
  const absl::Time before = absl::Now();
  const std::string first = Submit(Request("(212) 736-5001", "a-listing", "Jordan Autofill"));
  const std::string second = Submit(Request("(212) 736-5002", "", "x"));
  const std::string third = Submit(Request("(212) 736-5003", "", "x"));

  v1::ListQuarantinedSubmissionsResponse all;
  ASSERT_TRUE(List(&all).ok());
  ASSERT_EQ(all.submissions_size(), 3);
  EXPECT_EQ(all.next_page_token(), "") << "the last page";
  EXPECT_EQ(all.submissions(0).submission_id(), third) << "newest first";
  EXPECT_EQ(all.submissions(1).submission_id(), second);
  const v1::QuarantinedSubmission& held = all.submissions(2);
  EXPECT_EQ(held.submission_id(), first);
  const v1::SubmitCallbackRequest sent = Request("(212) 736-5001", "a-listing", "Jordan Autofill");
  EXPECT_EQ(held.listing_id(), "a-listing");
  EXPECT_EQ(held.caller().phone(), "+12127365001") << "in E.164";
  EXPECT_EQ(held.caller().name(), sent.caller().name());
  EXPECT_EQ(held.caller().postal_code(), sent.caller().postal_code());
  EXPECT_EQ(held.caller().region(), sent.caller().region());
  EXPECT_TRUE(held.consent().granted());
  EXPECT_EQ(held.consent().text(), sent.consent().text());
  EXPECT_THAT(held.consent().advertisers(), ElementsAre("Sunrise Recovery", "Blue Harbor"));
  EXPECT_EQ(held.honeypot(), "Jordan Autofill");
  EXPECT_EQ(held.form().SerializeAsString(), sent.form().SerializeAsString());
  EXPECT_EQ(held.message(), sent.message());
  EXPECT_GE(held.create_time().seconds(), absl::ToUnixSeconds(before) - 1);
  EXPECT_EQ(held.expire_time().seconds() - held.create_time().seconds(),
            absl::ToInt64Seconds(kQuarantineDays));
  EXPECT_EQ(held.expire_time().nanos(), held.create_time().nanos());

  // One at a time: each once, in the same order, and the last page says so.
  std::vector<std::string> paged;
  std::string token;
  do {
    v1::ListQuarantinedSubmissionsResponse page;
    ASSERT_TRUE(List(&page, 1, token).ok());
    ASSERT_EQ(page.submissions_size(), 1);
    paged.push_back(page.submissions(0).submission_id());
    token = page.next_page_token();
  } while (!token.empty() && paged.size() < 10);
  EXPECT_THAT(paged, ElementsAre(third, second, first));

  // Bad paging: the field named, nothing listed.
  v1::ListQuarantinedSubmissionsResponse bad;
  grpc::Status status = List(&bad, -1);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(status), std::set<std::string>{"page_size"});
  status = List(&bad, 0, "not-a-token");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadFields(status), std::set<std::string>{"page_token"});
  // A token of another RPC is refused, and so is an altered one.
  v1::AdminServiceListLeadsRequest leads_request;
  leads_request.set_page_size(1);
  v1::AdminServiceListLeadsResponse leads;
  ASSERT_TRUE(admin_->ListLeads(Context(admin_token_).get(), leads_request, &leads).ok());
  ASSERT_FALSE(leads.next_page_token().empty());
  status = List(&bad, 1, leads.next_page_token());
  EXPECT_EQ(BadFields(status), std::set<std::string>{"page_token"}) << "ListLeads' token";
  v1::ListQuarantinedSubmissionsResponse first_page;
  ASSERT_TRUE(List(&first_page, 1).ok());
  ASSERT_FALSE(first_page.next_page_token().empty());
  status = List(&bad, 1, first_page.next_page_token() + "x");
  EXPECT_EQ(BadFields(status), std::set<std::string>{"page_token"}) << "altered";
  EXPECT_EQ(bad.submissions_size(), 0);

  // Erasing a caller deletes their quarantined submissions at once.
  v1::EraseCallerRequest erase;
  erase.set_phone("212-736-5003");
  v1::EraseCallerResponse erased;
  ASSERT_TRUE(admin_->EraseCaller(Context(admin_token_).get(), erase, &erased).ok());
  EXPECT_THAT(ListedIds(), ElementsAre(second, first));
}

TEST_F(QuarantineTest, AReleaseBecomesANewRoutedLeadThatItsProviderHearsOfNow) {
  const std::string a = AddProvider("a");
  v1::SubmitCallbackRequest sent = Request("(212) 736-5001", "a-listing", "autofilled");
  sent.set_request_id("form-42");
  const std::string held = Submit(sent);
  v1::ListQuarantinedSubmissionsResponse page;
  ASSERT_TRUE(List(&page).ok());
  ASSERT_EQ(page.submissions_size(), 1);
  const google::protobuf::Timestamp received = page.submissions(0).create_time();
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM leads"), 0) << "a bot makes no lead";
  EXPECT_EQ(EventCount(), 0) << "nor any event";

  SetClockOffset("2h");  // Released two hours after it came in.
  v1::Lead lead;
  const grpc::Status released = Release(held, &lead);
  ASSERT_TRUE(released.ok()) << released.error_message();
  EXPECT_EQ(lead.state(), v1::LEAD_STATE_NEW);
  EXPECT_EQ(lead.provider_id(), "a");
  EXPECT_EQ(lead.routing().reason(), v1::ROUTING_REASON_LISTING_OWNER);
  EXPECT_EQ(lead.caller().phone(), "+12127365001");
  EXPECT_EQ(lead.caller().name(), sent.caller().name());
  EXPECT_EQ(lead.message(), sent.message());
  EXPECT_EQ(lead.form().utm_campaign(), "spring");
  EXPECT_EQ(lead.submission_count(), 1u);
  EXPECT_GE(lead.create_time().seconds(), received.seconds() + absl::ToInt64Seconds(absl::Hours(2)))
      << "created now";
  const v1::AdminServiceGetLeadResponse evidence = AdminGetLead(lead.lead_id());
  EXPECT_EQ(evidence.evidence().consent_time().SerializeAsString(), received.SerializeAsString())
      << "consent as of when it was given";
  EXPECT_THAT(evidence.evidence().advertisers(), ElementsAre("Sunrise Recovery", "Blue Harbor"));
  EXPECT_EQ(evidence.evidence().form_id(), sent.form().form_id());

  // Its provider hears of it as of any new lead, with the caller's data.
  std::vector<v1::SubscribeLeadsResponse> events;
  EXPECT_THAT(Events(a, 0, 1, &events), ElementsAre("LEAD_EVENT_TYPE_ASSIGNED " + lead.lead_id()));
  EXPECT_EQ(events[0].lead().caller().phone(), "+12127365001");

  // It left the quarantine; a second release finds nothing and changes nothing.
  EXPECT_THAT(ListedIds(), IsEmpty());
  EXPECT_EQ(Release(held).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(EventCount(), 1);
  // The original request, retried, gets its submission_id back and makes nothing new.
  EXPECT_EQ(Submit(sent), held);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM leads"), 1);
  EXPECT_EQ(EventCount(), 1);
}

TEST_F(QuarantineTest, AReleaseJoinsTheCallersOpenLeadOrIsRoutedLikeAnyGeneralLead) {
  const std::string a = AddProvider("a");
  const std::string b = AddProvider("b");
  const std::string held = Submit(Request("(212) 736-5001", "a-listing", "x"));
  ASSERT_FALSE(Submit(Request("(212) 736-5001", "a-listing")).empty());
  const std::string open = LeadOf("+12127365001", "a-listing");
  v1::Lead lead;
  ASSERT_TRUE(Release(held, &lead).ok());
  EXPECT_EQ(lead.lead_id(), open) << "a duplicate of the open lead";
  EXPECT_EQ(lead.submission_count(), 2u);
  EXPECT_THAT(Events(a, 0, 2), ElementsAre("LEAD_EVENT_TYPE_ASSIGNED " + open,
                                           "LEAD_EVENT_TYPE_RESUBMITTED " + open));

  // From the general helpline: rotation, to the provider assigned least recently (b).
  const std::string general = Submit(Request("(212) 736-5002", "", "x"));
  ASSERT_TRUE(Release(general, &lead).ok());
  EXPECT_EQ(lead.routing().reason(), v1::ROUTING_REASON_ROTATION);
  EXPECT_EQ(lead.provider_id(), "b");
  EXPECT_THAT(Events(b, 0, 1), ElementsAre("LEAD_EVENT_TYPE_ASSIGNED " + lead.lead_id()));
}

TEST_F(QuarantineTest, BadUnknownAndExpiredIdsAreRefusedAndChangeNothing) {
  AddProvider("a");
  const std::string held = Submit(Request("(212) 736-5001", "a-listing", "x"));
  for (const std::string& id : {std::string(), std::string(65, 's')}) {
    const grpc::Status status = Release(id);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << id.size();
    EXPECT_EQ(BadFields(status), std::set<std::string>{"submission_id"});
    EXPECT_FALSE(absl::StrContains(status.error_message(), "sss")) << "never echoed";
  }
  EXPECT_EQ(Release("sub-00000000000000000000000000000000").error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Release(std::string(64, 's')).error_code(), grpc::StatusCode::NOT_FOUND);
  // A lead's id is not a submission's.
  ASSERT_FALSE(Submit(Request("(212) 736-5002", "a-listing")).empty());
  EXPECT_EQ(Release(LeadOf("+12127365002", "a-listing")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(ListedIds(), ElementsAre(held));
  EXPECT_EQ(EventCount(), 1);

  // Expired: no longer listed and no longer released, even before the sweep deletes it.
  SetClockOffset(absl::FormatDuration(kQuarantineDays));
  EXPECT_THAT(ListedIds(), IsEmpty());
  EXPECT_EQ(Release(held).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(EventCount(), 1);
  EXPECT_EQ(QueryInt(db(), "SELECT count(*) FROM leads"), 1);
}

// --pii_retention with intaked's clock moved on: what is due goes at the sweep intaked runs
// as it starts (then every minute), and nothing else.
TEST_F(QuarantineTest, RetentionErasesOldLeadsAndEmptiesTheQuarantineAfterItsExpiry) {
  const std::string a = AddProvider("a");
  // Day 0: a lead and a bot.
  ASSERT_FALSE(Submit(Request("(212) 736-5001", "a-listing")).empty());
  const std::string old_lead = LeadOf("+12127365001", "a-listing");
  const std::string old_bot = Submit(Request("(212) 736-5011", "a-listing", "x"));
  // Day 4: another of each.
  SetClockOffset("96h");
  ASSERT_FALSE(Submit(Request("(212) 736-5002", "a-listing")).empty());
  const std::string young_lead = LeadOf("+12127365002", "a-listing");
  const std::string young_bot = Submit(Request("(212) 736-5012", "a-listing", "x"));
  // Day 7 and a bit: the first lead was last submitted 170 h ago, the second 74 h ago; the
  // first bot has expired, the second has not.
  ASSERT_EQ(server_->Stop(SIGTERM).exit_code, 0);
  SetClockOffset("170h");
  Start({"--pii_retention=100h"});

  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (!absl::StrContains(server_->Stderr(), "retention sweep")) {
    ASSERT_LT(absl::Now(), deadline) << server_->Stderr();
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(absl::StrContains(server_->Stderr(), "erased_leads=1 deleted_quarantined=1"))
      << server_->Stderr();

  const v1::Lead erased = AdminGetLead(old_lead).lead();
  EXPECT_EQ(erased.state(), v1::LEAD_STATE_ERASED);
  EXPECT_EQ(erased.caller().ByteSizeLong(), 0u) << erased.ShortDebugString();
  EXPECT_EQ(erased.message(), "");
  EXPECT_EQ(erased.form().client_ip(), "");
  const v1::Lead kept = AdminGetLead(young_lead).lead();
  EXPECT_EQ(kept.state(), v1::LEAD_STATE_NEW);
  EXPECT_EQ(kept.caller().phone(), "+12127365002");
  EXPECT_EQ(kept.message(), Request("(212) 736-5002", "").message());
  // Its provider hears, as of an erasure, and a replay carries none of the caller's data.
  std::vector<v1::SubscribeLeadsResponse> events;
  EXPECT_THAT(Events(a, 0, 3, &events), ElementsAre("LEAD_EVENT_TYPE_ASSIGNED " + old_lead,
                                                    "LEAD_EVENT_TYPE_ASSIGNED " + young_lead,
                                                    "LEAD_EVENT_TYPE_ERASED " + old_lead));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].lead().caller().ByteSizeLong(), 0u) << events[0].ShortDebugString();
  EXPECT_EQ(events[2].lead().caller().ByteSizeLong(), 0u) << events[2].ShortDebugString();
  // The expired bot is gone from the file, the other still listed.
  EXPECT_THAT(ListedIds(), ElementsAre(young_bot));
  EXPECT_EQ(QueryInt(db(), absl::StrCat("SELECT count(*) FROM quarantine WHERE submission_id = '",
                                        old_bot, "'")),
            0);
  // Dedup no longer links the number to the erased lead: a new submission is a new lead.
  ASSERT_FALSE(Submit(Request("(212) 736-5001", "a-listing")).empty());
  EXPECT_NE(LeadOf("+12127365001", "a-listing"), old_lead);
}

TEST_F(QuarantineTest, ANegativeRetentionIsAUsageError) {
  const ExitResult result = RunIntaked({"--pii_retention=-1h", "--data_dir=" + dir_.File("x")});
  EXPECT_EQ(result.exit_code, 2) << result.stderr_text;
  EXPECT_TRUE(absl::StrContains(result.stderr_text, "--pii_retention")) << result.stderr_text;
}

}  // namespace
}  // namespace intake::testing
