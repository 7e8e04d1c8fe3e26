// Privacy requests end to end: opt-out and erasure reach every provider that ever had a lead,
// erased data is gone from every view, every stream replay and the raw database files.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "tests/e2e/database.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/e2e/stream_reader.h"

namespace intake::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using v1::AdminService;
using v1::ProviderService;

// The caller of these tests, as typed on a form and as stored.
constexpr char kPhone[] = "(212) 736-5000";
constexpr char kE164[] = "+12127365000";

class PrivacyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = IntakedProcess::Start();
    ASSERT_NE(server_, nullptr);
    admin_ = AdminService::NewStub(server_->AdminChannel());
    intake_ = v1::IntakeService::NewStub(server_->PublicChannel());
    provider_ = ProviderService::NewStub(server_->PublicChannel());
    admin_token_ = server_->AdminToken();
  }

  // A provider with the listings "<id>-listing" and "<id>-second"; returns its token.
  std::string AddProvider(const std::string& id) {
    return CreateTestProvider(*admin_, admin_token_, id, {"-listing", "-second"}, "NY").token;
  }

  // Submits a request from `phone` for `listing_id` ("" for the general helpline) with a
  // value in every personal field, and returns the id of the lead it became or joined.
  std::string Submit(const std::string& phone, const std::string& listing_id) {
    v1::SubmitCallbackRequest r;
    r.set_listing_id(listing_id);
    r.mutable_caller()->set_phone(phone);
    r.mutable_caller()->set_name("Robin Example");
    r.mutable_caller()->set_postal_code("10001");
    r.mutable_caller()->set_region("NY");
    r.mutable_consent()->set_granted(true);
    r.mutable_consent()->set_text("I agree to be called back.");
    r.mutable_form()->set_client_ip("198.51.100.23");
    r.mutable_form()->set_user_agent("Mozilla/5.0 (X11; Linux x86_64)");
    r.mutable_form()->set_referrer("https://search.example/?q=detox");
    r.set_message("Please call after 6pm, it is about my brother.");
    v1::SubmitCallbackResponse response;
    grpc::Status status = intake_->SubmitCallback(Context().get(), r, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    // The caller's one open lead for this target: the new one, or the one it merged into.
    v1::AdminServiceListLeadsRequest list;
    list.set_page_size(1000);
    v1::AdminServiceListLeadsResponse leads;
    EXPECT_TRUE(admin_->ListLeads(Context(admin_token_).get(), list, &leads).ok());
    for (const v1::Lead& lead : leads.leads()) {
      if (lead.caller().phone() == E164(phone) && lead.listing_id() == listing_id &&
          lead.state() != v1::LEAD_STATE_OPTED_OUT && lead.state() != v1::LEAD_STATE_ERASED) {
        return lead.lead_id();
      }
    }
    ADD_FAILURE() << "no lead for the submission";
    return "";
  }

  // A US number as the tests type it, in E.164.
  static std::string E164(const std::string& phone) {
    std::string digits;
    for (const char c : phone) {
      if (c >= '0' && c <= '9') digits.push_back(c);
    }
    return digits.size() == 10 ? "+1" + digits : "+" + digits;
  }

  v1::AdminServiceGetLeadResponse AdminGetLead(const std::string& lead_id) {
    v1::AdminServiceGetLeadRequest request;
    request.set_lead_id(lead_id);
    v1::AdminServiceGetLeadResponse response;
    grpc::Status status = admin_->GetLead(Context(admin_token_).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status Reassign(const std::string& lead_id, const std::string& provider_id) {
    v1::ReassignLeadRequest request;
    request.set_lead_id(lead_id);
    request.set_provider_id(provider_id);
    v1::ReassignLeadResponse response;
    return admin_->ReassignLead(Context(admin_token_).get(), request, &response);
  }

  grpc::Status OptOut(const std::string& phone, uint32_t* changed = nullptr) {
    v1::RecordOptOutRequest request;
    request.set_phone(phone);
    v1::RecordOptOutResponse response;
    grpc::Status status = admin_->RecordOptOut(Context(admin_token_).get(), request, &response);
    if (changed != nullptr) *changed = response.opted_out_leads();
    return status;
  }
  grpc::Status Erase(const std::string& phone, uint32_t* erased = nullptr) {
    v1::EraseCallerRequest request;
    request.set_phone(phone);
    v1::EraseCallerResponse response;
    grpc::Status status = admin_->EraseCaller(Context(admin_token_).get(), request, &response);
    if (erased != nullptr) *erased = response.erased_leads();
    return status;
  }

  grpc::StatusCode Acknowledge(const std::string& token, const std::string& lead_id) {
    v1::AcknowledgeLeadRequest request;
    request.set_lead_id(lead_id);
    v1::AcknowledgeLeadResponse response;
    return provider_->AcknowledgeLead(Context(token).get(), request, &response).error_code();
  }
  grpc::StatusCode Contact(const std::string& token, const std::string& lead_id,
                           const std::string& note = "") {
    v1::RecordContactAttemptRequest request;
    request.set_lead_id(lead_id);
    request.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
    request.set_note(note);
    v1::RecordContactAttemptResponse response;
    return provider_->RecordContactAttempt(Context(token).get(), request, &response).error_code();
  }

  // Every event of the stream of `token` after `after` (the log is finite, so the read stops
  // at `count` events).
  std::vector<v1::SubscribeLeadsResponse> Events(const std::string& token, uint64_t after,
                                                 size_t count) {
    StreamRead read = Subscribe(provider_.get(), token, after, count);
    EXPECT_EQ(read.events.size(), count) << read.status.error_message();
    return read.events;
  }

  // The caller with three leads the issue describes: one from a's listing, one from the
  // general helpline (rotation gives it to b, which was never assigned one), and one from
  // a's second listing that ops reassigned to b.
  struct CallerLeads {
    std::string listing, general, reassigned;
  };
  CallerLeads ThreeLeads(const std::string& phone) {
    CallerLeads leads;
    leads.listing = Submit(phone, "a-listing");
    leads.general = Submit(phone, "");
    leads.reassigned = Submit(phone, "a-second");
    EXPECT_TRUE(Reassign(leads.reassigned, "b").ok());
    return leads;
  }

  std::unique_ptr<IntakedProcess> server_;
  std::unique_ptr<AdminService::Stub> admin_;
  std::unique_ptr<v1::IntakeService::Stub> intake_;
  std::unique_ptr<ProviderService::Stub> provider_;
  std::string admin_token_;
};

// "<TYPE> <lead_id>" for each event, to compare streams in one glance.
std::vector<std::string> Describe(const std::vector<v1::SubscribeLeadsResponse>& events) {
  std::vector<std::string> out;
  out.reserve(events.size());
  for (const auto& e : events) {
    out.push_back(absl::StrCat(v1::LeadEventType_Name(e.type()), " ", e.lead().lead_id()));
  }
  return out;
}

TEST_F(PrivacyTest, OptOutReachesEveryProviderThatEverHadTheLeadAndStaysReplayable) {
  const std::string a = AddProvider("a");
  const std::string b = AddProvider("b");
  const CallerLeads leads = ThreeLeads(kPhone);
  const std::string bystander = Submit("(212) 736-5999", "a-listing");
  // a: ASSIGNED listing, ASSIGNED reassigned, REASSIGNED_AWAY reassigned, ASSIGNED bystander;
  // b: ASSIGNED general, ASSIGNED reassigned.
  const uint64_t a_cursor = Events(a, 0, 4).back().sequence();
  const uint64_t b_cursor = Events(b, 0, 2).back().sequence();

  uint32_t changed = 0;
  ASSERT_TRUE(OptOut("212.736.5000", &changed).ok()) << "any accepted format names the caller";
  EXPECT_EQ(changed, 3u);

  // Each provider hears of every lead it ever had, resuming from its cursor.
  const std::vector<v1::SubscribeLeadsResponse> a_events = Events(a, a_cursor, 2);
  EXPECT_THAT(Describe(a_events),
              UnorderedElementsAre("LEAD_EVENT_TYPE_OPTED_OUT " + leads.listing,
                                   "LEAD_EVENT_TYPE_OPTED_OUT " + leads.reassigned));
  for (const auto& e : a_events) {
    if (e.lead().lead_id() == leads.listing) {
      EXPECT_EQ(e.lead().state(), v1::LEAD_STATE_OPTED_OUT);
    } else {
      EXPECT_EQ(e.lead().caller().phone(), "") << "no longer a's: the id only";
      EXPECT_EQ(e.lead().listing_id(), "");
    }
  }
  const std::vector<v1::SubscribeLeadsResponse> b_events = Events(b, b_cursor, 2);
  EXPECT_THAT(Describe(b_events),
              UnorderedElementsAre("LEAD_EVENT_TYPE_OPTED_OUT " + leads.general,
                                   "LEAD_EVENT_TYPE_OPTED_OUT " + leads.reassigned));
  for (const auto& e : b_events) EXPECT_EQ(e.lead().state(), v1::LEAD_STATE_OPTED_OUT);
  // A replay from the start shows them too, after what came before.
  EXPECT_EQ(Describe(Events(a, 0, 6)).back().rfind("LEAD_EVENT_TYPE_OPTED_OUT", 0), 0u);
  EXPECT_EQ(AdminGetLead(bystander).lead().state(), v1::LEAD_STATE_NEW);

  // A repeat changes nothing: no lead, no event.
  const int history = AdminGetLead(leads.reassigned).evidence().events_size();
  ASSERT_TRUE(OptOut(kPhone, &changed).ok());
  EXPECT_EQ(changed, 0u);
  EXPECT_EQ(AdminGetLead(leads.reassigned).evidence().events_size(), history);

  // Do not contact: feedback is refused for the provider that has it, and the one that lost it
  // cannot tell the lead exists.
  EXPECT_EQ(Acknowledge(a, leads.listing), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Contact(a, leads.listing), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Acknowledge(b, leads.reassigned), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Contact(b, leads.general), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Acknowledge(a, leads.reassigned), grpc::StatusCode::NOT_FOUND);

  // Asking again is new consent: a new lead, not merged into the opted-out one.
  const std::string again = Submit(kPhone, "a-listing");
  EXPECT_NE(again, leads.listing);
  const v1::AdminServiceGetLeadResponse fresh = AdminGetLead(again);
  EXPECT_EQ(fresh.lead().state(), v1::LEAD_STATE_NEW);
  EXPECT_EQ(fresh.lead().submission_count(), 1u);
  EXPECT_THAT(Describe(Events(a, a_events.back().sequence(), 1)),
              ElementsAre("LEAD_EVENT_TYPE_ASSIGNED " + again));
}

// True if no event carries any of the caller's data.
void ExpectNoCallerData(const std::vector<v1::SubscribeLeadsResponse>& events) {
  for (const auto& e : events) {
    EXPECT_EQ(e.lead().caller().ByteSizeLong(), 0u) << e.ShortDebugString();
    EXPECT_EQ(e.lead().message(), "") << e.ShortDebugString();
    EXPECT_EQ(e.lead().form().client_ip(), "");
    EXPECT_EQ(e.lead().form().user_agent(), "");
    EXPECT_EQ(e.lead().form().referrer(), "");
  }
}

void ExpectErased(const v1::Lead& lead) {
  EXPECT_EQ(lead.state(), v1::LEAD_STATE_ERASED);
  EXPECT_EQ(lead.caller().ByteSizeLong(), 0u) << lead.ShortDebugString();
  EXPECT_EQ(lead.message(), "");
  EXPECT_EQ(lead.form().client_ip(), "");
  EXPECT_EQ(lead.form().user_agent(), "");
  EXPECT_EQ(lead.form().referrer(), "");
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(PrivacyTest, EraseLeavesNoCallerDataInAnyViewStreamOrFile) {
  const std::string a = AddProvider("a");
  const std::string b = AddProvider("b");
  // Other callers before and after, so the erased rows share pages with live ones.
  for (int i = 0; i < 50; ++i) Submit(absl::StrCat("(212) 736-", 6000 + i), "a-listing");
  const CallerLeads leads = ThreeLeads(kPhone);
  ASSERT_EQ(Contact(a, leads.listing, "she asked for Dr. Example"), grpc::StatusCode::OK);
  ASSERT_EQ(Submit(kPhone, "a-listing"), leads.listing) << "a duplicate, merged";
  for (int i = 50; i < 100; ++i) Submit(absl::StrCat("(212) 736-", 6000 + i), "a-listing");
  const std::string db = server_->data_dir() + "/intake.db";
  std::map<std::string, std::string> sealed, phone_hash;
  for (const std::string& id : {leads.listing, leads.general, leads.reassigned}) {
    sealed[id] = absl::HexStringToBytes(
        QueryText(db, absl::StrCat("SELECT hex(sealed) FROM leads WHERE lead_id = '", id, "'")));
    phone_hash[id] = absl::HexStringToBytes(QueryText(
        db, absl::StrCat("SELECT hex(phone_hash) FROM leads WHERE lead_id = '", id, "'")));
    ASSERT_GT(sealed[id].size(), 100u);
    ASSERT_EQ(phone_hash[id].size(), 32u);
  }

  uint32_t erased = 0;
  ASSERT_TRUE(Erase("+1 212 736 5000", &erased).ok());
  EXPECT_EQ(erased, 3u);

  // Admin and provider views.
  for (const std::string& id : {leads.listing, leads.general, leads.reassigned}) {
    const v1::AdminServiceGetLeadResponse got = AdminGetLead(id);
    ExpectErased(got.lead());
    EXPECT_EQ(got.evidence().consent_text_sha256().size(), 64u) << "the evidence stays";
    EXPECT_EQ(got.evidence().events().rbegin()->type(), v1::LEAD_EVENT_TYPE_ERASED);
  }
  v1::AdminServiceListLeadsRequest list;
  list.set_state(v1::LEAD_STATE_ERASED);
  v1::AdminServiceListLeadsResponse listed;
  ASSERT_TRUE(admin_->ListLeads(Context(admin_token_).get(), list, &listed).ok());
  ASSERT_EQ(listed.leads_size(), 3);
  for (const v1::Lead& lead : listed.leads()) ExpectErased(lead);
  for (const auto& [token, id] : std::vector<std::pair<std::string, std::string>>{
           {a, leads.listing}, {b, leads.general}, {b, leads.reassigned}}) {
    v1::GetLeadRequest get;
    get.set_lead_id(id);
    v1::GetLeadResponse got;
    ASSERT_TRUE(provider_->GetLead(Context(token).get(), get, &got).ok());
    ExpectErased(got.lead());
    v1::ListLeadsRequest mine;
    mine.set_state(v1::LEAD_STATE_ERASED);
    v1::ListLeadsResponse theirs;
    ASSERT_TRUE(provider_->ListLeads(Context(token).get(), mine, &theirs).ok());
    for (const v1::Lead& lead : theirs.leads()) ExpectErased(lead);
  }
  EXPECT_EQ(Acknowledge(a, leads.listing), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Contact(b, leads.general), grpc::StatusCode::FAILED_PRECONDITION);

  // Streams replayed from the start: every event of the caller's leads, none with data, and
  // an ERASED event for each provider that ever had each lead.
  std::set<std::string> caller_leads = {leads.listing, leads.general, leads.reassigned};
  // a: 100 other leads, then ASSIGNED and RESUBMITTED of the listing lead, ASSIGNED and
  // REASSIGNED_AWAY of the reassigned one, and two ERASED; b: two ASSIGNED and two ERASED.
  for (const auto& [token, count] : std::vector<std::pair<std::string, size_t>>{{a, 106}, {b, 4}}) {
    std::vector<v1::SubscribeLeadsResponse> theirs;
    std::set<std::string> erased_events;
    for (const auto& e : Events(token, 0, count)) {
      if (!caller_leads.count(e.lead().lead_id())) continue;
      theirs.push_back(e);
      if (e.type() == v1::LEAD_EVENT_TYPE_ERASED) erased_events.insert(e.lead().lead_id());
    }
    ExpectNoCallerData(theirs);
    if (token == a) {
      EXPECT_THAT(erased_events, UnorderedElementsAre(leads.listing, leads.reassigned));
    } else {
      EXPECT_THAT(erased_events, UnorderedElementsAre(leads.general, leads.reassigned));
    }
  }

  // The raw files: no 16 bytes of the old ciphertext, and no keyed phone hash.
  const std::string files = FileBytes(db) + FileBytes(db + "-wal");
  for (const auto& [id, bytes] : sealed) {
    for (size_t at = 0; at + 16 <= bytes.size(); at += 16) {
      ASSERT_EQ(files.find(bytes.substr(at, 16)), std::string::npos)
          << "ciphertext of " << id << " at offset " << at;
    }
    EXPECT_EQ(files.find(phone_hash[id]), std::string::npos) << "phone hash of " << id;
  }

  // Nothing links the number to the erased leads: the same caller again is a new lead.
  const std::string again = Submit(kPhone, "a-listing");
  EXPECT_NE(again, leads.listing);
  EXPECT_EQ(AdminGetLead(again).lead().submission_count(), 1u);
  EXPECT_EQ(AdminGetLead(again).lead().caller().phone(), kE164);
}

TEST_F(PrivacyTest, BadPhonesAreRefusedNamingTheFieldAndChangeNothing) {
  const std::string a = AddProvider("a");
  const std::string lead = Submit(kPhone, "a-listing");
  const std::vector<std::string> bad = {"",
                                        "12",
                                        "(212) 555-0123",  // Fictional 555-01XX.
                                        "(900) 736-5000",  // Premium rate.
                                        std::string(33, '2'),
                                        std::string("212\x01 736 5000")};
  for (const std::string& phone : bad) {
    for (const bool erase : {false, true}) {
      const grpc::Status status = erase ? Erase(phone) : OptOut(phone);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << absl::CEscape(phone);
      EXPECT_EQ(BadFields(status), std::set<std::string>{"phone"}) << absl::CEscape(phone);
      if (phone.size() > 3) {
        EXPECT_FALSE(absl::StrContains(status.error_message(), phone.substr(1, 3)))
            << "the error never echoes the phone";
      }
    }
  }
  EXPECT_EQ(AdminGetLead(lead).lead().state(), v1::LEAD_STATE_NEW);
  EXPECT_EQ(AdminGetLead(lead).evidence().events_size(), 1);

  // Only ops may make these requests.
  v1::RecordOptOutRequest request;
  request.set_phone(kPhone);
  v1::RecordOptOutResponse response;
  EXPECT_EQ(admin_->RecordOptOut(Context(a).get(), request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(admin_->RecordOptOut(Context().get(), request, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(AdminGetLead(lead).lead().state(), v1::LEAD_STATE_NEW);
}

TEST_F(PrivacyTest, AnUnknownPhoneIsNotAnError) {
  uint32_t count = 99;
  EXPECT_TRUE(OptOut(kPhone, &count).ok());
  EXPECT_EQ(count, 0u);
  EXPECT_TRUE(Erase(kPhone, &count).ok());
  EXPECT_EQ(count, 0u);
}

TEST_F(PrivacyTest, PurgeDeletesWholeLeadsUpToAPastCutoff) {
  const std::string a = AddProvider("a");
  const std::string old_lead = Submit(kPhone, "a-listing");
  const v1::AdminServiceGetLeadResponse before = AdminGetLead(old_lead);
  ASSERT_EQ(Events(a, 0, 1).size(), 1u);
  // The cutoff: just after the old lead's submission, before the next one.
  google::protobuf::Timestamp cutoff = before.lead().last_submit_time();
  cutoff.set_nanos(cutoff.nanos() + 1000);
  if (cutoff.nanos() > 999'999'999) {
    cutoff.set_seconds(cutoff.seconds() + 1);
    cutoff.set_nanos(cutoff.nanos() - 1'000'000'000);
  }
  const std::string new_lead = Submit("(212) 736-5001", "a-second");
  const google::protobuf::Timestamp later = AdminGetLead(new_lead).lead().last_submit_time();
  ASSERT_GT(later.seconds() * 1'000'000'000LL + later.nanos(),
            cutoff.seconds() * 1'000'000'000LL + cutoff.nanos())
      << "the second lead was committed after the cutoff";

  const auto purge = [&](const google::protobuf::Timestamp* older_than, uint32_t* purged) {
    v1::PurgeLeadsRequest request;
    if (older_than != nullptr) *request.mutable_older_than() = *older_than;
    v1::PurgeLeadsResponse response;
    grpc::Status status = admin_->PurgeLeads(Context(admin_token_).get(), request, &response);
    if (purged != nullptr) *purged = response.purged_leads();
    return status;
  };
  // Refused cutoffs change nothing.
  google::protobuf::Timestamp future;
  future.set_seconds(cutoff.seconds() + 3600);
  google::protobuf::Timestamp bad_nanos = cutoff;
  bad_nanos.set_nanos(1'000'000'000);
  google::protobuf::Timestamp year_10000;
  year_10000.set_seconds(253'402'300'800);
  for (const google::protobuf::Timestamp* t :
       std::vector<const google::protobuf::Timestamp*>{nullptr, &future, &bad_nanos, &year_10000}) {
    const grpc::Status status = purge(t, nullptr);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(BadFields(status), std::set<std::string>{"older_than"});
  }
  EXPECT_EQ(AdminGetLead(old_lead).lead().lead_id(), old_lead);

  uint32_t purged = 0;
  ASSERT_TRUE(purge(&cutoff, &purged).ok());
  EXPECT_EQ(purged, 1u);
  v1::AdminServiceGetLeadRequest get;
  get.set_lead_id(old_lead);
  v1::AdminServiceGetLeadResponse got;
  EXPECT_EQ(admin_->GetLead(Context(admin_token_).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::GetLeadRequest provider_get;
  provider_get.set_lead_id(old_lead);
  v1::GetLeadResponse provider_got;
  EXPECT_EQ(provider_->GetLead(Context(a).get(), provider_get, &provider_got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Acknowledge(a, old_lead), grpc::StatusCode::NOT_FOUND);
  // Its events are gone from the stream; the newer lead's stay.
  EXPECT_THAT(Describe(Events(a, 0, 1)), ElementsAre("LEAD_EVENT_TYPE_ASSIGNED " + new_lead));
  EXPECT_EQ(AdminGetLead(new_lead).lead().state(), v1::LEAD_STATE_NEW);
  ASSERT_TRUE(purge(&cutoff, &purged).ok());
  EXPECT_EQ(purged, 0u) << "a repeat deletes nothing more";
}

}  // namespace
}  // namespace intake::testing
