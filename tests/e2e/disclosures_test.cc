// The accounting of disclosures end to end: every provider token that received a caller's
// lead through any channel is listed, once, with the channel of the first time, and no one
// else is; erasure keeps the records under the lead id but unlinks them from the phone.
#include <algorithm>
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
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/e2e/stream_reader.h"

namespace intake::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using v1::AdminService;
using v1::ProviderService;

constexpr char kPhone[] = "(212) 736-5000";
// Long enough for a record noted off the reply path to be written on a loaded machine.
constexpr absl::Duration kRecordDeadline = absl::Seconds(30);

// A provider token as the tests use it: its secret and its id.
struct Token {
  std::string token;
  std::string token_id;
};

// "<provider> <token_id> <channel>" for one disclosure, to compare lists in one glance.
std::string Describe(const v1::Disclosure& d) {
  return absl::StrCat(d.provider_id(), " ", d.token_id(), " ",
                      v1::DisclosureChannel_Name(d.channel()));
}

std::vector<std::string> Describe(
    const google::protobuf::RepeatedPtrField<v1::Disclosure>& disclosures) {
  std::vector<std::string> out;
  out.reserve(disclosures.size());
  for (const v1::Disclosure& d : disclosures) out.push_back(Describe(d));
  std::sort(out.begin(), out.end());  // Same-microsecond records come in either order.
  return out;
}

std::string Expect(const std::string& provider, const Token& token, v1::DisclosureChannel c) {
  return absl::StrCat(provider, " ", token.token_id, " ", v1::DisclosureChannel_Name(c));
}

class DisclosuresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = IntakedProcess::Start();
    ASSERT_NE(server_, nullptr);
    admin_ = AdminService::NewStub(server_->AdminChannel());
    intake_ = v1::IntakeService::NewStub(server_->PublicChannel());
    provider_ = ProviderService::NewStub(server_->PublicChannel());
    admin_token_ = server_->AdminToken();
  }

  // A provider with the listings "<id>-listing" and "<id>-second".
  void AddProvider(const std::string& id) {
    CreateTestProvider(*admin_, admin_token_, id, {"-listing", "-second"}, "NY");
  }

  Token IssueToken(const std::string& provider_id) {
    v1::IssueProviderTokenRequest issue;
    issue.set_provider_id(provider_id);
    v1::IssueProviderTokenResponse issued;
    EXPECT_TRUE(admin_->IssueProviderToken(Context(admin_token_).get(), issue, &issued).ok());
    return Token{issued.token(), issued.token_id()};
  }

  // Submits from `phone` for `listing_id` and returns the newest lead of that listing.
  std::string Submit(const std::string& phone, const std::string& listing_id) {
    v1::SubmitCallbackRequest request = ValidRequest(phone);
    request.set_listing_id(listing_id);
    v1::SubmitCallbackResponse response;
    grpc::Status status = intake_->SubmitCallback(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    v1::AdminServiceListLeadsRequest list;
    list.set_page_size(1);
    v1::AdminServiceListLeadsResponse leads;
    EXPECT_TRUE(admin_->ListLeads(Context(admin_token_).get(), list, &leads).ok());
    EXPECT_EQ(leads.leads_size(), 1);
    return leads.leads_size() == 1 ? leads.leads(0).lead_id() : "";
  }

  grpc::Status ListDisclosures(const std::string& phone, v1::ListDisclosuresResponse* response) {
    v1::ListDisclosuresRequest request;
    request.set_phone(phone);
    return admin_->ListDisclosures(Context(admin_token_).get(), request, response);
  }

  v1::AdminServiceGetLeadResponse AdminGetLead(const std::string& lead_id) {
    v1::AdminServiceGetLeadRequest request;
    request.set_lead_id(lead_id);
    v1::AdminServiceGetLeadResponse response;
    grpc::Status status = admin_->GetLead(Context(admin_token_).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // Waits until admin GetLead shows `lead_id` disclosed to `token`. Records are written off
  // the reply path in the order they are noted, so once one is listed every record noted
  // before it is too.
  void AwaitDisclosure(const std::string& lead_id, const Token& token) {
    const absl::Time deadline = absl::Now() + kRecordDeadline;
    while (absl::Now() < deadline) {
      const v1::AdminServiceGetLeadResponse lead = AdminGetLead(lead_id);
      for (const v1::Disclosure& d : lead.disclosures()) {
        if (d.token_id() == token.token_id) return;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    ADD_FAILURE() << "no disclosure of " << lead_id << " to " << token.token_id;
  }

  std::unique_ptr<IntakedProcess> server_;
  std::unique_ptr<AdminService::Stub> admin_;
  std::unique_ptr<v1::IntakeService::Stub> intake_;
  std::unique_ptr<ProviderService::Stub> provider_;
  std::string admin_token_;
};

TEST_F(DisclosuresTest, EveryTokenThatReceivedTheLeadIsListedOnceAndNoOther) {
  AddProvider("a");
  AddProvider("b");
  AddProvider("c");
  const Token a_stream = IssueToken("a");
  const Token a_get = IssueToken("a");
  const Token a_late = IssueToken("a");
  const Token a_ack = IssueToken("a");
  const Token b_stream = IssueToken("b");
  const Token b_list = IssueToken("b");
  const Token b_contact = IssueToken("b");
  const Token c_stream = IssueToken("c");
  const Token c_get = IssueToken("c");

  const std::string listing = Submit(kPhone, "a-listing");
  const std::string reassigned = Submit(kPhone, "a-second");
  const std::string bystander = Submit("(212) 736-5999", "c-listing");
  // a's dashboard receives both of the caller's leads; c's only its own.
  ASSERT_EQ(Subscribe(provider_.get(), a_stream.token, 0, 2).events.size(), 2u);
  ASSERT_EQ(Subscribe(provider_.get(), c_stream.token, 0, 1).events.size(), 1u);

  // Ops give the second lead to b: a keeps what it received, and b receives it.
  v1::ReassignLeadRequest reassign;
  reassign.set_lead_id(reassigned);
  reassign.set_provider_id("b");
  v1::ReassignLeadResponse moved;
  ASSERT_TRUE(admin_->ReassignLead(Context(admin_token_).get(), reassign, &moved).ok());
  ASSERT_EQ(Subscribe(provider_.get(), b_stream.token, 0, 1).events.size(), 1u);
  // A dashboard of a that connects now replays the listing lead with its data, and the
  // reassigned lead's ASSIGNED and REASSIGNED_AWAY events with its id only: no disclosure.
  const StreamRead late = Subscribe(provider_.get(), a_late.token, 0, 3);
  ASSERT_EQ(late.events.size(), 3u);
  EXPECT_EQ(late.events[1].lead().caller().phone(), "");

  // The unary channels. The first time counts: a_get's later acknowledgement adds nothing.
  v1::GetLeadRequest get;
  get.set_lead_id(listing);
  v1::GetLeadResponse got;
  ASSERT_TRUE(provider_->GetLead(Context(a_get.token).get(), get, &got).ok());
  v1::ListLeadsRequest list;
  v1::ListLeadsResponse listed;
  ASSERT_TRUE(provider_->ListLeads(Context(b_list.token).get(), list, &listed).ok());
  ASSERT_EQ(listed.leads_size(), 1);
  v1::AcknowledgeLeadRequest ack;
  ack.set_lead_id(listing);
  v1::AcknowledgeLeadResponse acked;
  ASSERT_TRUE(provider_->AcknowledgeLead(Context(a_get.token).get(), ack, &acked).ok());
  ASSERT_TRUE(provider_->AcknowledgeLead(Context(a_ack.token).get(), ack, &acked).ok());
  v1::RecordContactAttemptRequest contact;
  contact.set_lead_id(reassigned);
  contact.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  v1::RecordContactAttemptResponse contacted;
  ASSERT_TRUE(
      provider_->RecordContactAttempt(Context(b_contact.token).get(), contact, &contacted).ok());
  // Ops' own views are not disclosures.
  v1::WatchLeadsRequest watch;
  auto watch_context = Context(admin_token_);
  auto watcher = admin_->WatchLeads(watch_context.get(), watch);
  v1::WatchLeadsResponse watched;
  ASSERT_TRUE(watcher->Read(&watched));
  watch_context->TryCancel();
  (void)watcher->Finish();
  // The last record noted: once it is written, every one before it is.
  get.set_lead_id(bystander);
  ASSERT_TRUE(provider_->GetLead(Context(c_get.token).get(), get, &got).ok());
  AwaitDisclosure(bystander, c_get);

  v1::ListDisclosuresResponse response;
  ASSERT_TRUE(ListDisclosures("+1 212.736.5000", &response).ok()) << "any accepted format";
  ASSERT_EQ(response.leads_size(), 2);
  const v1::LeadDisclosures& newest = response.leads(0);
  const v1::LeadDisclosures& oldest = response.leads(1);
  EXPECT_EQ(newest.lead_id(), reassigned);
  EXPECT_EQ(newest.listing_id(), "a-second");
  EXPECT_EQ(oldest.lead_id(), listing);
  EXPECT_EQ(oldest.listing_id(), "a-listing");
  EXPECT_TRUE(oldest.has_create_time());
  EXPECT_THAT(Describe(oldest.disclosures()),
              ::testing::UnorderedElementsAreArray(std::vector<std::string>{
                  Expect("a", a_stream, v1::DISCLOSURE_CHANNEL_STREAM),
                  Expect("a", a_late, v1::DISCLOSURE_CHANNEL_STREAM),
                  Expect("a", a_get, v1::DISCLOSURE_CHANNEL_GET_LEAD),
                  Expect("a", a_ack, v1::DISCLOSURE_CHANNEL_ACKNOWLEDGE_LEAD)}));
  EXPECT_THAT(Describe(newest.disclosures()),
              ::testing::UnorderedElementsAreArray(std::vector<std::string>{
                  Expect("a", a_stream, v1::DISCLOSURE_CHANNEL_STREAM),
                  Expect("b", b_stream, v1::DISCLOSURE_CHANNEL_STREAM),
                  Expect("b", b_list, v1::DISCLOSURE_CHANNEL_LIST_LEADS),
                  Expect("b", b_contact, v1::DISCLOSURE_CHANNEL_RECORD_CONTACT_ATTEMPT)}));
  // Oldest first, each with its time.
  for (const v1::LeadDisclosures& lead : response.leads()) {
    int64_t previous = 0;
    for (const v1::Disclosure& d : lead.disclosures()) {
      const int64_t at = d.first_time().seconds() * 1'000'000'000LL + d.first_time().nanos();
      EXPECT_GT(at, 0) << Describe(d);
      EXPECT_GE(at, previous) << Describe(d);
      previous = at;
    }
  }
  // Admin GetLead shows the same records.
  const v1::AdminServiceGetLeadResponse lead = AdminGetLead(reassigned);
  EXPECT_EQ(Describe(lead.disclosures()), Describe(newest.disclosures()));
  EXPECT_THAT(Describe(AdminGetLead(bystander).disclosures()),
              ::testing::UnorderedElementsAre(Expect("c", c_stream, v1::DISCLOSURE_CHANNEL_STREAM),
                                              Expect("c", c_get, v1::DISCLOSURE_CHANNEL_GET_LEAD)));
}

TEST_F(DisclosuresTest, BadPhonesAreRefusedNamingTheFieldAndAnUnknownOneHasNoLeads) {
  for (const std::string& phone :
       {std::string(""), std::string("12"), std::string("(212) 555-0123"),
        std::string("(900) 736-5000"), std::string(33, '2'), std::string("212\x01 736 5000")}) {
    v1::ListDisclosuresResponse response;
    const grpc::Status status = ListDisclosures(phone, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << phone;
    EXPECT_EQ(BadFields(status), std::set<std::string>{"phone"}) << phone;
    if (phone.size() > 3) {
      EXPECT_FALSE(absl::StrContains(status.error_message(), phone.substr(1, 3)))
          << "the error never echoes the phone";
    }
  }
  v1::ListDisclosuresResponse none;
  ASSERT_TRUE(ListDisclosures(kPhone, &none).ok());
  EXPECT_THAT(none.leads(), IsEmpty());

  // Only ops may ask.
  AddProvider("a");
  const Token a = IssueToken("a");
  v1::ListDisclosuresRequest request;
  request.set_phone(kPhone);
  v1::ListDisclosuresResponse response;
  EXPECT_EQ(admin_->ListDisclosures(Context(a.token).get(), request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(admin_->ListDisclosures(Context().get(), request, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(DisclosuresTest, ErasureKeepsTheRecordsUnderTheLeadButNotUnderThePhone) {
  AddProvider("a");
  const Token a = IssueToken("a");
  const std::string lead = Submit(kPhone, "a-listing");
  ASSERT_EQ(Subscribe(provider_.get(), a.token, 0, 1).events.size(), 1u);
  AwaitDisclosure(lead, a);
  v1::ListDisclosuresResponse before;
  ASSERT_TRUE(ListDisclosures(kPhone, &before).ok());
  ASSERT_EQ(before.leads_size(), 1);

  v1::EraseCallerRequest erase;
  erase.set_phone(kPhone);
  v1::EraseCallerResponse erased;
  ASSERT_TRUE(admin_->EraseCaller(Context(admin_token_).get(), erase, &erased).ok());
  ASSERT_EQ(erased.erased_leads(), 1u);

  v1::ListDisclosuresResponse after;
  ASSERT_TRUE(ListDisclosures(kPhone, &after).ok());
  EXPECT_THAT(after.leads(), IsEmpty()) << "nothing links the phone to the erased lead";
  // The audit trail stays under the lead id. Receiving the erased lead again (the replay,
  // its ERASED event, GetLead) discloses nothing.
  const Token late = IssueToken("a");
  ASSERT_EQ(Subscribe(provider_.get(), late.token, 0, 2).events.size(), 2u);
  v1::GetLeadRequest get;
  get.set_lead_id(lead);
  v1::GetLeadResponse got;
  ASSERT_TRUE(provider_->GetLead(Context(late.token).get(), get, &got).ok());
  // A new lead of the caller, with another provider (whose dashboard no stream of a's can
  // reach), disclosed now: once that record is written, any of `late` would be too.
  AddProvider("b");
  const Token reader = IssueToken("b");
  const std::string again = Submit(kPhone, "b-listing");
  ASSERT_NE(again, lead);
  get.set_lead_id(again);
  ASSERT_TRUE(provider_->GetLead(Context(reader.token).get(), get, &got).ok());
  AwaitDisclosure(again, reader);
  EXPECT_EQ(Describe(AdminGetLead(lead).disclosures()), Describe(before.leads(0).disclosures()));

  // The caller's new lead is found by phone, alone.
  ASSERT_TRUE(ListDisclosures(kPhone, &after).ok());
  ASSERT_EQ(after.leads_size(), 1);
  EXPECT_EQ(after.leads(0).lead_id(), again);
  EXPECT_THAT(Describe(after.leads(0).disclosures()),
              ElementsAre(Expect("b", reader, v1::DISCLOSURE_CHANNEL_GET_LEAD)));
}

}  // namespace
}  // namespace intake::testing
