// Lead streams and provider feedback end to end: replay and resume, isolation between
// providers, heartbeats, drain, acknowledgements, contact attempts, reassignment and the
// measured response figures.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/e2e/stream_reader.h"

namespace intake::testing {
namespace {

using v1::ProviderService;

class StreamTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args = {}) {
    server_ = IntakedProcess::Start(std::move(args));
    ASSERT_NE(server_, nullptr);
    admin_ = v1::AdminService::NewStub(server_->AdminChannel());
    intake_ = v1::IntakeService::NewStub(server_->PublicChannel());
    provider_ = ProviderService::NewStub(server_->PublicChannel());
  }
  void SetUp() override { Start(); }

  // A provider with one listing "<id>-listing"; returns its token.
  std::string AddProvider(const std::string& id) {
    return CreateTestProvider(*admin_, server_->AdminToken(), id).token;
  }

  // Submits a lead for `provider`'s listing from a caller numbered `n`.
  grpc::Status SubmitFor(const std::string& provider, int n,
                         v1::IntakeService::Stub* stub = nullptr) {
    v1::SubmitCallbackRequest r;
    r.set_listing_id(provider + "-listing");
    r.mutable_caller()->set_phone(absl::StrFormat("(212) %03d-%04d", 200 + n / 10000, n % 10000));
    r.mutable_caller()->set_name("Caller");
    r.mutable_consent()->set_granted(true);
    r.mutable_consent()->set_text("I agree.");
    v1::SubmitCallbackResponse response;
    return (stub != nullptr ? stub : intake_.get())->SubmitCallback(Context().get(), r, &response);
  }

  std::unique_ptr<IntakedProcess> server_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::IntakeService::Stub> intake_;
  std::unique_ptr<ProviderService::Stub> provider_;
};

TEST_F(StreamTest, ResumingFiveTimesWhileLeadsArriveMissesNothing) {
  const std::string acme = AddProvider("acme");
  AddProvider("beta");
  constexpr int kLeads = 2000;
  std::thread submitter([&] {
    auto stub = v1::IntakeService::NewStub(server_->PublicChannel());
    for (int n = 0; n < kLeads; ++n) {
      ASSERT_TRUE(SubmitFor(n % 2 == 0 ? "acme" : "beta", n, stub.get()).ok());
    }
  });
  std::vector<v1::SubscribeLeadsResponse> all;
  uint64_t cursor = 0;
  for (int disconnects = 0; disconnects < 5; ++disconnects) {
    StreamRead part = Subscribe(provider_.get(), acme, cursor, 150);
    ASSERT_FALSE(part.events.empty()) << part.status.error_message();
    all.insert(all.end(), part.events.begin(), part.events.end());
    cursor = all.back().sequence();
  }
  submitter.join();
  const size_t remaining = kLeads / 2 - all.size();
  StreamRead rest = Subscribe(provider_.get(), acme, cursor, remaining);
  all.insert(all.end(), rest.events.begin(), rest.events.end());

  ASSERT_EQ(all.size(), static_cast<size_t>(kLeads / 2));
  std::set<std::string> leads;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(all[i - 1].sequence(), all[i].sequence()) << "at " << i;
    }
    EXPECT_EQ(all[i].type(), v1::LEAD_EVENT_TYPE_ASSIGNED);
    EXPECT_EQ(all[i].lead().provider_id(), "acme");
    EXPECT_EQ(all[i].lead().listing_id(), "acme-listing");
    leads.insert(all[i].lead().lead_id());
  }
  EXPECT_EQ(leads.size(), static_cast<size_t>(kLeads / 2));
}

TEST_F(StreamTest, ProvidersNeverSeeEachOthersLeads) {
  const std::map<std::string, std::string> tokens = {{"acme", AddProvider("acme")},
                                                     {"beta", AddProvider("beta")}};
  constexpr int kLeads = 1000;
  for (int n = 0; n < kLeads; ++n) {
    ASSERT_TRUE(SubmitFor(n % 3 == 0 ? "acme" : "beta", n).ok());
  }
  std::map<std::string, std::vector<std::string>> seen;
  for (const auto& [id, token] : tokens) {
    const size_t expected = id == "acme" ? 334 : 666;
    StreamRead read = Subscribe(provider_.get(), token, 0, expected);
    ASSERT_EQ(read.events.size(), expected) << id;
    for (const auto& e : read.events) {
      EXPECT_EQ(e.lead().provider_id(), id);
      seen[id].push_back(e.lead().lead_id());
    }
  }
  // Every RPC answers NOT_FOUND for the other provider's lead, as for an unknown id.
  for (size_t i = 0; i < seen["beta"].size(); i += 7) {
    const std::string& theirs = seen["beta"][i];
    v1::GetLeadRequest get;
    get.set_lead_id(theirs);
    v1::GetLeadResponse got;
    EXPECT_EQ(provider_->GetLead(Context(tokens.at("acme")).get(), get, &got).error_code(),
              grpc::StatusCode::NOT_FOUND);
    v1::AcknowledgeLeadRequest ack;
    ack.set_lead_id(theirs);
    v1::AcknowledgeLeadResponse acked;
    EXPECT_EQ(
        provider_->AcknowledgeLead(Context(tokens.at("acme")).get(), ack, &acked).error_code(),
        grpc::StatusCode::NOT_FOUND);
    v1::RecordContactAttemptRequest contact;
    contact.set_lead_id(theirs);
    contact.set_outcome(v1::CONTACT_OUTCOME_REACHED);
    v1::RecordContactAttemptResponse contacted;
    EXPECT_EQ(provider_->RecordContactAttempt(Context(tokens.at("acme")).get(), contact, &contacted)
                  .error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  v1::GetLeadRequest unknown;
  unknown.set_lead_id("lead-000000000000000000000000");
  v1::GetLeadResponse got;
  EXPECT_EQ(provider_->GetLead(Context(tokens.at("acme")).get(), unknown, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // ListLeads is scoped too.
  v1::ListLeadsRequest list;
  list.set_page_size(1000);
  v1::ListLeadsResponse listed;
  ASSERT_TRUE(provider_->ListLeads(Context(tokens.at("acme")).get(), list, &listed).ok());
  EXPECT_EQ(listed.leads_size(), 334);
  for (const auto& lead : listed.leads()) EXPECT_EQ(lead.provider_id(), "acme");
}

TEST_F(StreamTest, StreamsNeedAProviderToken) {
  StreamRead none = Subscribe(provider_.get(), "", 0, 1);
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  StreamRead admin = Subscribe(provider_.get(), server_->AdminToken(), 0, 1);
  EXPECT_EQ(admin.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(StreamTest, RevokingATokenEndsItsOpenStreams) {
  const std::string token = AddProvider("acme");
  auto context = Context(token, absl::Seconds(30));
  auto reader = provider_->SubscribeLeads(context.get(), v1::SubscribeLeadsRequest());
  ASSERT_TRUE(SubmitFor("acme", 1).ok());
  v1::SubscribeLeadsResponse message;
  ASSERT_TRUE(reader->Read(&message));
  // A second token of the same provider, with a stream of its own, is revoked.
  v1::IssueProviderTokenRequest issue;
  issue.set_provider_id("acme");
  v1::IssueProviderTokenResponse second;
  ASSERT_TRUE(
      admin_->IssueProviderToken(Context(server_->AdminToken()).get(), issue, &second).ok());
  auto revoked_context = Context(second.token(), absl::Seconds(30));
  auto revoked_reader =
      provider_->SubscribeLeads(revoked_context.get(), v1::SubscribeLeadsRequest());
  ASSERT_TRUE(revoked_reader->Read(&message));

  v1::RevokeProviderTokenRequest revoke;
  revoke.set_token_id(second.token_id());
  v1::RevokeProviderTokenResponse done;
  ASSERT_TRUE(
      admin_->RevokeProviderToken(Context(server_->AdminToken()).get(), revoke, &done).ok());
  while (revoked_reader->Read(&message)) {
  }
  EXPECT_EQ(revoked_reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // The other token's stream carries on.
  ASSERT_TRUE(SubmitFor("acme", 2).ok());
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_EQ(message.type(), v1::LEAD_EVENT_TYPE_ASSIGNED);
  context->TryCancel();
  reader->Finish();
}

// --max_streams_per_token caps the streams one token holds open at once; other tokens, and
// the same token once one of its streams has closed, are not affected.
TEST_F(StreamTest, ATokenOverItsStreamCapIsResourceExhausted) {
  Start({"--max_streams_per_token=2"});
  const std::string token = AddProvider("acme");
  const std::string other = AddProvider("beta");
  ASSERT_TRUE(SubmitFor("acme", 1).ok());
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::SubscribeLeadsResponse>>> readers;
  v1::SubscribeLeadsResponse message;
  for (int i = 0; i < 2; ++i) {
    contexts.push_back(Context(token, absl::Seconds(60)));
    readers.push_back(provider_->SubscribeLeads(contexts.back().get(), {}));
    ASSERT_TRUE(readers.back()->Read(&message)) << "stream " << i << " replays the lead";
  }
  StreamRead third = Subscribe(provider_.get(), token, 0, 1);
  EXPECT_EQ(third.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << third.status.error_message();
  EXPECT_TRUE(third.events.empty());
  ASSERT_TRUE(SubmitFor("beta", 2).ok());
  StreamRead beta = Subscribe(provider_.get(), other, 0, 1);
  EXPECT_EQ(beta.events.size(), 1u) << "another token has its own cap";

  contexts[0]->TryCancel();
  readers[0]->Finish();
  // The server forgets the cancelled stream when its reactor is done, a moment later.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  StreamRead again;
  do {
    again = Subscribe(provider_.get(), token, 0, 1);
  } while (again.events.empty() && absl::Now() < deadline);
  EXPECT_EQ(again.events.size(), 1u) << again.status.error_message();
  contexts[1]->TryCancel();
  readers[1]->Finish();
}

TEST_F(StreamTest, CursorBeyondTheHeadIsOutOfRange) {
  const std::string token = AddProvider("acme");
  ASSERT_TRUE(SubmitFor("acme", 1).ok());
  StreamRead read = Subscribe(provider_.get(), token, 2, 1);
  EXPECT_EQ(read.status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  StreamRead at_head = Subscribe(provider_.get(), token, 1, 1, absl::Milliseconds(300));
  EXPECT_EQ(at_head.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << "a cursor at the head is fine: the stream waits";
}

TEST_F(StreamTest, IdleStreamsGetHeartbeats) {
  Start({"--heartbeat_interval=200ms"});
  const std::string token = AddProvider("acme");
  auto context = Context(token, absl::Seconds(10));
  auto reader = provider_->SubscribeLeads(context.get(), v1::SubscribeLeadsRequest());
  v1::SubscribeLeadsResponse message;
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_EQ(message.type(), v1::LEAD_EVENT_TYPE_HEARTBEAT);
  EXPECT_EQ(message.sequence(), 0u);
  EXPECT_FALSE(message.has_lead());
  EXPECT_EQ(message.instance_id().size(), 32u);
  // A lead arriving on the idle stream is delivered, then heartbeats resume.
  ASSERT_TRUE(SubmitFor("acme", 7).ok());
  do {
    ASSERT_TRUE(reader->Read(&message));
  } while (message.type() == v1::LEAD_EVENT_TYPE_HEARTBEAT);
  EXPECT_EQ(message.type(), v1::LEAD_EVENT_TYPE_ASSIGNED);
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_EQ(message.type(), v1::LEAD_EVENT_TYPE_HEARTBEAT);
  EXPECT_EQ(message.head_sequence(), 1u);
  context->TryCancel();
  reader->Finish();
}

TEST_F(StreamTest, DrainEndsStreamsWithUnavailable) {
  const std::string token = AddProvider("acme");
  auto context = Context(token, absl::Seconds(30));
  auto reader = provider_->SubscribeLeads(context.get(), v1::SubscribeLeadsRequest());
  ASSERT_TRUE(SubmitFor("acme", 1).ok());
  v1::SubscribeLeadsResponse message;
  ASSERT_TRUE(reader->Read(&message));
  std::thread stopper([&] { EXPECT_EQ(server_->Stop(SIGTERM).exit_code, 0); });
  while (reader->Read(&message)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  stopper.join();
}

TEST_F(StreamTest, AcknowledgeIsIdempotentAndContactAttemptsAreValidated) {
  const std::string token = AddProvider("acme");
  ASSERT_TRUE(SubmitFor("acme", 1).ok());
  StreamRead read = Subscribe(provider_.get(), token, 0, 1);
  ASSERT_EQ(read.events.size(), 1u);
  const std::string lead_id = read.events[0].lead().lead_id();
  EXPECT_EQ(read.events[0].lead().state(), v1::LEAD_STATE_NEW);
  EXPECT_EQ(read.events[0].lead().caller().phone(), "+12122000001");

  v1::AcknowledgeLeadRequest ack;
  ack.set_lead_id(lead_id);
  v1::AcknowledgeLeadResponse first, second;
  ASSERT_TRUE(provider_->AcknowledgeLead(Context(token).get(), ack, &first).ok());
  absl::SleepFor(absl::Milliseconds(5));
  ASSERT_TRUE(provider_->AcknowledgeLead(Context(token).get(), ack, &second).ok());
  EXPECT_EQ(first.lead().state(), v1::LEAD_STATE_ACKNOWLEDGED);
  EXPECT_TRUE(first.lead().has_acknowledge_time());
  EXPECT_EQ(first.lead().acknowledge_time().SerializeAsString(),
            second.lead().acknowledge_time().SerializeAsString());

  struct Case {
    v1::ContactOutcome outcome;
    std::string note;
    std::set<std::string> fields;
  };
  for (const Case& c : std::vector<Case>{
           {v1::CONTACT_OUTCOME_UNSPECIFIED, "", {"outcome"}},
           {static_cast<v1::ContactOutcome>(42), "", {"outcome"}},
           {v1::CONTACT_OUTCOME_REACHED, std::string(501, 'n'), {"note"}},
           {v1::CONTACT_OUTCOME_REACHED, "bell\x07", {"note"}},
       }) {
    v1::RecordContactAttemptRequest contact;
    contact.set_lead_id(lead_id);
    contact.set_outcome(c.outcome);
    contact.set_note(c.note);
    v1::RecordContactAttemptResponse response;
    const grpc::Status status =
        provider_->RecordContactAttempt(Context(token).get(), contact, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(BadFields(status), c.fields);
  }
  v1::RecordContactAttemptRequest contact;
  contact.set_lead_id(lead_id);
  contact.set_outcome(v1::CONTACT_OUTCOME_NO_ANSWER);
  contact.set_note(std::string(500, 'n'));
  v1::RecordContactAttemptResponse attempt1, attempt2;
  ASSERT_TRUE(provider_->RecordContactAttempt(Context(token).get(), contact, &attempt1).ok());
  EXPECT_EQ(attempt1.lead().state(), v1::LEAD_STATE_CONTACTED);
  EXPECT_EQ(attempt1.lead().last_outcome(), v1::CONTACT_OUTCOME_NO_ANSWER);
  contact.set_outcome(v1::CONTACT_OUTCOME_REACHED);
  ASSERT_TRUE(provider_->RecordContactAttempt(Context(token).get(), contact, &attempt2).ok());
  EXPECT_EQ(attempt2.lead().last_outcome(), v1::CONTACT_OUTCOME_REACHED);
  EXPECT_EQ(attempt1.lead().first_contact_time().SerializeAsString(),
            attempt2.lead().first_contact_time().SerializeAsString())
      << "the first attempt's time stays";

  // The figures now count this lead: contacted at once, within the SLA.
  v1::GetResponseStatsRequest stats_request;
  stats_request.set_listing_id("acme-listing");
  v1::GetResponseStatsResponse stats;
  ASSERT_TRUE(intake_->GetResponseStats(Context().get(), stats_request, &stats).ok());
  EXPECT_EQ(stats.stats().sample_size(), 1u);
  EXPECT_DOUBLE_EQ(stats.stats().response_rate(), 1.0);
  EXPECT_LT(stats.stats().median_response_seconds(), 60);
  stats_request.set_listing_id("no-such-listing");
  EXPECT_EQ(intake_->GetResponseStats(Context().get(), stats_request, &stats).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// RecordContactAttemptRequest.note: free text on as many lines as needed (LF or CR LF, and
// tabs); a CR on its own and other control characters are INVALID_ARGUMENT naming `note`,
// and the error never repeats the note.
TEST_F(StreamTest, AContactNoteMaySpanLines) {
  const std::string token = AddProvider("acme");
  ASSERT_TRUE(SubmitFor("acme", 1).ok());
  StreamRead read = Subscribe(provider_.get(), token, 0, 1);
  ASSERT_EQ(read.events.size(), 1u);
  const auto contact = [&](const std::string& note) {
    v1::RecordContactAttemptRequest request;
    request.set_lead_id(read.events[0].lead().lead_id());
    request.set_outcome(v1::CONTACT_OUTCOME_LEFT_VOICEMAIL);
    request.set_note(note);
    v1::RecordContactAttemptResponse response;
    return provider_->RecordContactAttempt(Context(token).get(), request, &response);
  };
  for (const std::string note : {"Called twice.\nLeft voicemail.",
                                 "Called twice.\r\nLeft voicemail.\r\n", "Outcome:\tvoicemail"}) {
    const grpc::Status status = contact(note);
    EXPECT_TRUE(status.ok()) << absl::CEscape(note) << ": " << status.error_message();
  }
  for (const std::string note : {"Called secretly.\rNo answer.", "Escape\x1b[2J", "Bell\a"}) {
    const grpc::Status status = contact(note);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << absl::CEscape(note);
    EXPECT_EQ(BadFields(status), std::set<std::string>{"note"}) << absl::CEscape(note);
    EXPECT_FALSE(absl::StrContains(status.error_message(), "secretly")) << status.error_message();
  }
}

// SubmitCallbackResponse.typical_response is "as GetResponseStats returns for the request's
// listing_id": kept fresh in the background, without anyone asking for figures, and given
// for a listing created since the figures were last computed.
TEST_F(StreamTest, SubmitRepliesCarryTheListingsCurrentFigures) {
  const std::string token = AddProvider("acme");  // Its listing is newer than the server.
  const auto submit = [&](const std::string& listing, int n) {
    v1::SubmitCallbackRequest r;
    r.set_listing_id(listing);
    r.mutable_caller()->set_phone(absl::StrFormat("(212) 201-%04d", n));
    r.mutable_consent()->set_granted(true);
    r.mutable_consent()->set_text("I agree.");
    v1::SubmitCallbackResponse response;
    EXPECT_TRUE(intake_->SubmitCallback(Context().get(), r, &response).ok());
    return response.typical_response();
  };
  const v1::ResponseStats first = submit("acme-listing", 1);
  EXPECT_EQ(first.window_days(), 30u) << "acme's figures, though none is measured yet";
  EXPECT_EQ(first.sample_size(), 0u);

  StreamRead read = Subscribe(provider_.get(), token, 0, 1);
  ASSERT_EQ(read.events.size(), 1u);
  v1::RecordContactAttemptRequest contact;
  contact.set_lead_id(read.events[0].lead().lead_id());
  contact.set_outcome(v1::CONTACT_OUTCOME_REACHED);
  v1::RecordContactAttemptResponse contacted;
  ASSERT_TRUE(provider_->RecordContactAttempt(Context(token).get(), contact, &contacted).ok());

  // Nobody calls GetResponseStats or GetStats: the figures must still reach the replies.
  v1::ResponseStats reply;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (int n = 2; absl::Now() < deadline; ++n) {
    reply = submit("acme-listing", n);
    if (reply.sample_size() == 1) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(reply.sample_size(), 1u);
  EXPECT_DOUBLE_EQ(reply.response_rate(), 1.0);
  v1::GetResponseStatsRequest stats_request;
  stats_request.set_listing_id("acme-listing");
  v1::GetResponseStatsResponse stats;
  ASSERT_TRUE(intake_->GetResponseStats(Context().get(), stats_request, &stats).ok());
  EXPECT_EQ(reply.SerializeAsString(), stats.stats().SerializeAsString())
      << reply.DebugString() << " vs " << stats.stats().DebugString();

  // A listing created just now: its owner's figures at once, as GetResponseStats gives them.
  v1::CreateListingRequest listing;
  listing.set_listing_id("acme-second");
  listing.set_provider_id("acme");
  listing.set_display_name("Second center");
  listing.set_region("FL");
  v1::CreateListingResponse listed;
  ASSERT_TRUE(admin_->CreateListing(Context(server_->AdminToken()).get(), listing, &listed).ok());
  const v1::ResponseStats fresh_listing = submit("acme-second", 9000);
  EXPECT_EQ(fresh_listing.sample_size(), 1u);
  EXPECT_DOUBLE_EQ(fresh_listing.response_rate(), 1.0);
  stats_request.set_listing_id("acme-second");
  ASSERT_TRUE(intake_->GetResponseStats(Context().get(), stats_request, &stats).ok());
  EXPECT_EQ(fresh_listing.SerializeAsString(), stats.stats().SerializeAsString());
}

TEST_F(StreamTest, ReassignmentMovesTheLeadBetweenStreams) {
  const std::string acme = AddProvider("acme");
  const std::string beta = AddProvider("beta");
  ASSERT_TRUE(SubmitFor("acme", 1).ok());
  StreamRead before = Subscribe(provider_.get(), acme, 0, 1);
  ASSERT_EQ(before.events.size(), 1u);
  const std::string lead_id = before.events[0].lead().lead_id();

  v1::ReassignLeadRequest reassign;
  reassign.set_lead_id(lead_id);
  reassign.set_provider_id("beta");
  v1::ReassignLeadResponse moved;
  ASSERT_TRUE(admin_->ReassignLead(Context(server_->AdminToken()).get(), reassign, &moved).ok());
  EXPECT_EQ(moved.lead().provider_id(), "beta");
  EXPECT_EQ(moved.lead().routing().reason(), v1::ROUTING_REASON_MANUAL);

  StreamRead acme_after = Subscribe(provider_.get(), acme, before.events[0].sequence(), 1);
  ASSERT_EQ(acme_after.events.size(), 1u);
  EXPECT_EQ(acme_after.events[0].type(), v1::LEAD_EVENT_TYPE_REASSIGNED_AWAY);
  EXPECT_EQ(acme_after.events[0].lead().lead_id(), lead_id);
  EXPECT_FALSE(acme_after.events[0].lead().has_caller()) << "no longer acme's to see";
  StreamRead acme_replay = Subscribe(provider_.get(), acme, 0, 1);
  EXPECT_FALSE(acme_replay.events[0].lead().has_caller()) << "replays show nothing either";

  StreamRead beta_read = Subscribe(provider_.get(), beta, 0, 1);
  ASSERT_EQ(beta_read.events.size(), 1u);
  EXPECT_EQ(beta_read.events[0].type(), v1::LEAD_EVENT_TYPE_ASSIGNED);
  EXPECT_EQ(beta_read.events[0].lead().caller().phone(), "+12122000001");
  EXPECT_EQ(beta_read.events[0].lead().routing().reason(), v1::ROUTING_REASON_MANUAL);
  EXPECT_TRUE(beta_read.events[0].lead().routing().detail().empty())
      << "routing detail names other providers: ops only";

  v1::GetLeadRequest get;
  get.set_lead_id(lead_id);
  v1::GetLeadResponse got;
  EXPECT_EQ(provider_->GetLead(Context(acme).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(provider_->GetLead(Context(beta).get(), get, &got).ok());

  // Ops see the whole history.
  v1::AdminServiceGetLeadRequest admin_get;
  admin_get.set_lead_id(lead_id);
  v1::AdminServiceGetLeadResponse evidence;
  ASSERT_TRUE(admin_->GetLead(Context(server_->AdminToken()).get(), admin_get, &evidence).ok());
  ASSERT_EQ(evidence.evidence().events_size(), 3);
  EXPECT_EQ(evidence.evidence().events(1).type(), v1::LEAD_EVENT_TYPE_REASSIGNED_AWAY);
  EXPECT_EQ(evidence.evidence().events(1).provider_id(), "acme");
  EXPECT_EQ(evidence.evidence().consent_text_sha256().size(), 64u);
  EXPECT_FALSE(evidence.lead().routing().detail().empty());
}

TEST_F(StreamTest, WatchLeadsSeesEveryEventWithItsProvider) {
  AddProvider("acme");
  ASSERT_TRUE(SubmitFor("acme", 1).ok());
  v1::SubmitCallbackRequest general;
  general.mutable_caller()->set_phone("(305) 736-5000");
  general.mutable_caller()->set_region("AK");
  general.mutable_consent()->set_granted(true);
  general.mutable_consent()->set_text("I agree.");
  v1::SubmitCallbackResponse submitted;
  ASSERT_TRUE(intake_->SubmitCallback(Context().get(), general, &submitted).ok());

  auto context = Context(server_->AdminToken());
  auto reader = admin_->WatchLeads(context.get(), v1::WatchLeadsRequest());
  std::vector<v1::WatchLeadsResponse> events;
  events.reserve(2);
  v1::WatchLeadsResponse message;
  while (events.size() < 2 && reader->Read(&message)) {
    if (message.type() != v1::LEAD_EVENT_TYPE_HEARTBEAT) events.push_back(message);
  }
  context->TryCancel();
  reader->Finish();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].provider_id(), "acme");
  EXPECT_EQ(events[1].lead().state(), v1::LEAD_STATE_NEW) << "acme is nationwide";
}

// Resident memory of `pid` in KiB.
int64_t RssKib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

TEST_F(StreamTest, AThousandIdleSubscribersCostLittle) {
  Start({"--max_streams_per_token=0"});  // One token for all of them.
  const std::string token = AddProvider("acme");
  AddProvider("idle");
  ASSERT_TRUE(SubmitFor("acme", 0).ok());  // Warm up every path once.
  const int64_t before = RssKib(server_->pid());
  constexpr int kStreams = 1000;
  constexpr int kChannels = 10;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  channels.reserve(kChannels);
  for (int i = 0; i < kChannels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("intake.test.channel", i);
    channels.push_back(grpc::CreateCustomChannel(server_->listen_address(),
                                                 grpc::InsecureChannelCredentials(), args));
  }
  std::vector<std::unique_ptr<ProviderService::Stub>> stubs;
  stubs.reserve(kChannels);
  for (const auto& c : channels) stubs.push_back(ProviderService::NewStub(c));
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::SubscribeLeadsResponse>>> readers;
  contexts.reserve(kStreams);
  readers.reserve(kStreams);
  for (int i = 0; i < kStreams; ++i) {
    contexts.push_back(Context(token, absl::Seconds(120)));
    readers.push_back(stubs[i % stubs.size()]->SubscribeLeads(contexts.back().get(),
                                                              v1::SubscribeLeadsRequest()));
  }
  // Each stream replays the one event: all are live once each has read it.
  v1::SubscribeLeadsResponse message;
  for (auto& reader : readers) ASSERT_TRUE(reader->Read(&message));
  for (int n = 1; n <= 50; ++n) ASSERT_TRUE(SubmitFor("idle", n).ok()) << n;
  const int64_t after = RssKib(server_->pid());
  for (auto& context : contexts) context->TryCancel();
  for (auto& reader : readers) reader->Finish();
#if !defined(INTAKE_SANITIZE)
  EXPECT_LT(after - before, 64 * 1024) << "KiB for " << kStreams << " idle streams";
#endif
  std::cerr << "1000 idle streams: " << (after - before) / 1024 << " MiB extra RSS\n";
}

}  // namespace
}  // namespace intake::testing
