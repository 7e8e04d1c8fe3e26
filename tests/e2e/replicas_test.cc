// Several intaked replicas on one PostgreSQL database (--database), end to end: the real
// binaries on port 0, a private PostgreSQL 15 (tests/testing/pg_server.h), one copy of the
// fleet's secrets that no replica writes. Leads submitted to any replica reach a provider's
// stream on any other, in strictly increasing sequence with no gap in the log; duplicates
// arriving at once on different replicas make one lead; tokens issued or revoked through one
// replica hold on all; three replicas under random load keep every stream complete while
// subscribers hop between them; a replica SIGKILLed under load loses no acknowledged lead.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/barrier.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "server/store/postgres/connection.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/testing/http_get.h"
#include "tests/testing/pg_server.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/text_file.h"

namespace intake::testing {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(60);

struct Replica {
  std::unique_ptr<IntakedProcess> process;
  std::unique_ptr<v1::AdminService::Stub> admin;
  std::unique_ptr<v1::IntakeService::Stub> intake;
  std::unique_ptr<v1::ProviderService::Stub> provider;
};

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<PgServer*> server = SharedPgServer();
    ASSERT_TRUE(server.ok()) << server.status();
    absl::StatusOr<std::string> database = (*server)->CreateDatabase();
    ASSERT_TRUE(database.ok()) << database.status();
    uri_ = (*server)->Uri(*database);
    // The fleet's secrets, made by ops, read-only to every replica.
    std::ofstream(secrets_.File("admin.token")) << "e2e-admin-token-0123456789abcdef\n";
    std::ofstream(secrets_.File("data.key")) << std::string(64, 'a') << "\n";
    ASSERT_EQ(chmod(secrets_.path().c_str(), 0500), 0);
  }
  void TearDown() override { chmod(secrets_.path().c_str(), 0700); }

  Replica StartReplica() {
    Replica r;
    r.process =
        IntakedProcess::Start({"--database=" + uri_, "--heartbeat_interval=1s"}, secrets_.path());
    if (r.process == nullptr) return r;
    r.admin = v1::AdminService::NewStub(r.process->AdminChannel());
    r.intake = v1::IntakeService::NewStub(r.process->PublicChannel());
    r.provider = v1::ProviderService::NewStub(r.process->PublicChannel());
    return r;
  }

  // Starts two replicas on the test's database; a fatal failure if either does not start.
  void StartTwoReplicas(Replica* a, Replica* b) {
    *a = StartReplica();
    ASSERT_NE(a->process, nullptr);
    *b = StartReplica();
    ASSERT_NE(b->process, nullptr);
  }

  // AddProvider through `through`, once `other`, which learns of the token by notification,
  // accepts it too; "" (and a failure) if it never does.
  std::string AddProviderKnownTo(Replica& through, Replica& other, const std::string& id) {
    std::string token = AddProvider(through, id);
    const grpc::StatusCode settled =
        ProviderCallSettles(other, token, grpc::StatusCode::UNAUTHENTICATED);
    if (settled == grpc::StatusCode::OK) return token;
    ADD_FAILURE() << "the other replica answers a token issued for " << id << " with " << settled;
    return "";
  }

  // Creates provider `id` with listing "<id>-listing" through `r`, and returns a token.
  std::string AddProvider(Replica& r, const std::string& id) {
    const std::string admin = r.process->AdminToken();
    v1::CreateProviderRequest provider;
    provider.set_provider_id(id);
    provider.set_display_name(id);
    v1::CreateProviderResponse created;
    grpc::Status s = r.admin->CreateProvider(Context(admin).get(), provider, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::CreateListingRequest listing;
    listing.set_listing_id(id + "-listing");
    listing.set_provider_id(id);
    listing.set_display_name("Center");
    listing.set_region("FL");
    v1::CreateListingResponse listed;
    s = r.admin->CreateListing(Context(admin).get(), listing, &listed);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::IssueProviderTokenRequest issue;
    issue.set_provider_id(id);
    v1::IssueProviderTokenResponse token;
    s = r.admin->IssueProviderToken(Context(admin).get(), issue, &token);
    EXPECT_TRUE(s.ok()) << s.error_message();
    last_token_id_ = token.token_id();
    return token.token();
  }

  // The status a provider call with `token` gets from `r` once it is no longer `while_code`
  // (a token change made through another replica arrives by notification).
  static grpc::StatusCode ProviderCallSettles(Replica& r, const std::string& token,
                                              grpc::StatusCode while_code) {
    const absl::Time deadline = absl::Now() + kDeadline;
    grpc::Status s;
    do {
      v1::ListLeadsRequest request;
      v1::ListLeadsResponse response;
      s = r.provider->ListLeads(Context(token).get(), request, &response);
      if (s.error_code() != while_code) return s.error_code();
      absl::SleepFor(absl::Milliseconds(20));
    } while (absl::Now() < deadline);
    return s.error_code();
  }

  // A submission of caller `n` (each n its own phone) to `listing`.
  static v1::SubmitCallbackRequest Request(const std::string& listing, int n,
                                           const std::string& request_id = "") {
    v1::SubmitCallbackRequest request =
        ValidRequest(absl::StrFormat("(212) %03d-%04d", 200 + n / 10000, n % 10000));
    request.set_listing_id(listing);
    request.set_request_id(request_id);
    return request;
  }

  static grpc::Status Submit(Replica& r, const std::string& listing, int n,
                             const std::string& request_id = "") {
    v1::SubmitCallbackResponse response;
    return r.intake->SubmitCallback(Context().get(), Request(listing, n, request_id), &response);
  }

  // Reads `token`'s stream on `r` from `after` until `count` events (heartbeats aside) came.
  static std::vector<v1::SubscribeLeadsResponse> Read(Replica& r, const std::string& token,
                                                      uint64_t after, size_t count) {
    auto context = Context(token, kDeadline);
    v1::SubscribeLeadsRequest request;
    request.set_after_sequence(after);
    auto reader = r.provider->SubscribeLeads(context.get(), request);
    std::vector<v1::SubscribeLeadsResponse> events;
    v1::SubscribeLeadsResponse message;
    while (events.size() < count && reader->Read(&message)) {
      if (message.type() != v1::LEAD_EVENT_TYPE_HEARTBEAT) events.push_back(message);
    }
    context->TryCancel();
    const grpc::Status status = reader->Finish();
    if (events.size() < count) {
      ADD_FAILURE() << "the stream ended after " << events.size()
                    << " events: " << status.error_code() << " " << status.error_message();
    }
    return events;
  }

  // The whole event log as the database holds it: each event's provider ("" for an
  // unassigned lead), by sequence.
  std::map<uint64_t, std::string> EventLog() const {
    std::map<uint64_t, std::string> log;
    absl::StatusOr<std::unique_ptr<store::postgres::Connection>> conn =
        store::postgres::Connection::Open(uri_, "replicas-test");
    EXPECT_TRUE(conn.ok()) << conn.status();
    if (!conn.ok()) return log;
    absl::StatusOr<store::postgres::Result> rows =
        (*conn)->Exec("SELECT sequence, coalesce(provider_id, '') FROM lead_events");
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok()) return log;
    for (int i = 0; i < rows->rows(); ++i) {
      log[static_cast<uint64_t>(rows->Int64(i, 0))] = std::string(rows->Text(i, 1));
    }
    return log;
  }

  TempDir secrets_;
  std::string uri_;
  std::string last_token_id_;
};

// A lead streamed through one replica is in the accounting of disclosures that another
// replica answers with, in admin GetLead and ListDisclosures alike.
TEST_F(ReplicasTest, ADisclosureThroughOneReplicaIsAccountedOnAnother) {
  Replica a, b;
  StartTwoReplicas(&a, &b);
  if (HasFatalFailure()) return;
  const std::string token = AddProvider(a, "a");
  ASSERT_TRUE(Submit(a, "a-listing", 1).ok());
  const std::vector<v1::SubscribeLeadsResponse> events = Read(a, token, 0, 1);
  ASSERT_EQ(events.size(), 1u);
  const std::string admin = b.process->AdminToken();
  v1::AdminServiceGetLeadRequest get;
  get.set_lead_id(events[0].lead().lead_id());
  v1::AdminServiceGetLeadResponse got;
  // The record is written a moment after the stream sent the lead, off its path.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (true) {
    got.Clear();
    const grpc::Status status = b.admin->GetLead(Context(admin).get(), get, &got);
    ASSERT_TRUE(status.ok()) << status.error_message();
    if (got.disclosures_size() > 0 || absl::Now() > deadline) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(got.lead().lead_id(), events[0].lead().lead_id());
  ASSERT_EQ(got.disclosures_size(), 1);
  EXPECT_EQ(got.disclosures(0).provider_id(), "a");
  EXPECT_EQ(got.disclosures(0).channel(), v1::DISCLOSURE_CHANNEL_STREAM);
  v1::ListDisclosuresRequest list;
  list.set_phone(Request("a-listing", 1).caller().phone());
  v1::ListDisclosuresResponse listed;
  const grpc::Status status = b.admin->ListDisclosures(Context(admin).get(), list, &listed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(listed.leads_size(), 1);
  EXPECT_EQ(listed.leads(0).disclosures_size(), 1);
}

// An opt-out and an erasure made through one replica reach a live stream on another, by
// notification, and the ERASED event carries no personal data.
TEST_F(ReplicasTest, AnOptOutAndAnErasureThroughOneReplicaReachAStreamOnAnother) {
  Replica a, b;
  StartTwoReplicas(&a, &b);
  if (HasFatalFailure()) return;
  const std::string token = AddProviderKnownTo(a, b, "acme");
  ASSERT_FALSE(token.empty());
  ASSERT_TRUE(Submit(a, "acme-listing", 1).ok());
  const std::string phone = Request("acme-listing", 1).caller().phone();

  auto context = Context(token, kDeadline);
  auto reader = b.provider->SubscribeLeads(context.get(), v1::SubscribeLeadsRequest());
  v1::SubscribeLeadsResponse message;
  // The ASSIGNED event, then a heartbeat: the stream has caught up and waits for the log.
  ASSERT_TRUE(reader->Read(&message));
  ASSERT_EQ(message.type(), v1::LEAD_EVENT_TYPE_ASSIGNED);
  const std::string lead_id = message.lead().lead_id();
  ASSERT_TRUE(reader->Read(&message));
  ASSERT_EQ(message.type(), v1::LEAD_EVENT_TYPE_HEARTBEAT);
  // The next event that is not a heartbeat.
  const auto next_event = [&]() {
    v1::SubscribeLeadsResponse event;
    while (reader->Read(&event)) {
      if (event.type() != v1::LEAD_EVENT_TYPE_HEARTBEAT) return event;
    }
    ADD_FAILURE() << "the stream ended";
    return event;
  };

  const std::string admin = a.process->AdminToken();
  v1::RecordOptOutRequest opt_out;
  opt_out.set_phone(phone);
  v1::RecordOptOutResponse opted_out;
  grpc::Status status = a.admin->RecordOptOut(Context(admin).get(), opt_out, &opted_out);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(opted_out.opted_out_leads(), 1u);
  message = next_event();
  EXPECT_EQ(message.type(), v1::LEAD_EVENT_TYPE_OPTED_OUT);
  EXPECT_EQ(message.lead().lead_id(), lead_id);
  EXPECT_EQ(message.lead().state(), v1::LEAD_STATE_OPTED_OUT);

  v1::EraseCallerRequest erase;
  erase.set_phone(phone);
  v1::EraseCallerResponse erased;
  status = a.admin->EraseCaller(Context(admin).get(), erase, &erased);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(erased.erased_leads(), 1u);
  message = next_event();
  EXPECT_EQ(message.type(), v1::LEAD_EVENT_TYPE_ERASED);
  EXPECT_EQ(message.lead().lead_id(), lead_id);
  EXPECT_EQ(message.lead().state(), v1::LEAD_STATE_ERASED);
  EXPECT_EQ(message.lead().caller().phone(), "");
  EXPECT_EQ(message.lead().caller().name(), "");
  EXPECT_EQ(message.lead().message(), "");
  context->TryCancel();
  reader->Finish().error_code();

  // Bad input gets the same status through any replica: an invalid phone.
  erase.set_phone("555");
  status = b.admin->EraseCaller(Context(admin).get(), erase, &erased);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReplicasTest, StreamsOnAnyReplicaSeeEveryLeadOfAnyReplicaInOrderWithNoGap) {
  Replica a, b;
  StartTwoReplicas(&a, &b);
  if (HasFatalFailure()) return;
  // Each token is issued through one replica; the other learns it by notification.
  const std::string acme = AddProviderKnownTo(a, b, "acme");
  ASSERT_FALSE(acme.empty());
  const std::string beta = AddProviderKnownTo(b, a, "beta");
  ASSERT_FALSE(beta.empty());

  // A live stream on B, caught up, gets a lead submitted on A.
  {
    auto context = Context(acme, kDeadline);
    v1::SubscribeLeadsRequest request;
    auto reader = b.provider->SubscribeLeads(context.get(), request);
    v1::SubscribeLeadsResponse message;
    // A heartbeat comes only once the stream has caught up and waits for the log to grow.
    ASSERT_TRUE(reader->Read(&message));
    ASSERT_EQ(message.type(), v1::LEAD_EVENT_TYPE_HEARTBEAT);
    ASSERT_TRUE(Submit(a, "acme-listing", 1).ok());
    bool got = false;
    while (!got && reader->Read(&message)) {
      got = message.type() == v1::LEAD_EVENT_TYPE_ASSIGNED;
    }
    ASSERT_TRUE(got);
    EXPECT_EQ(message.sequence(), 1u);
    EXPECT_EQ(message.lead().provider_id(), "acme");
    context->TryCancel();
    reader->Finish().error_code();
  }

  // 200 more leads, alternately to each replica, from two clients at once; and one caller's
  // 20 simultaneous submissions, spread over both replicas, which make one lead.
  constexpr int kLeads = 200;
  constexpr int kDuplicates = 20;
  std::vector<std::thread> threads;
  threads.reserve(2 + kDuplicates);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 2 + t; n < 2 + kLeads; n += 2) {
        Replica& to = (n / 2) % 2 == 0 ? a : b;
        EXPECT_TRUE(Submit(to, n % 4 < 2 ? "acme-listing" : "beta-listing", n).ok());
      }
    });
  }
  absl::Barrier* start = new absl::Barrier(kDuplicates);
  for (int d = 0; d < kDuplicates; ++d) {
    threads.emplace_back([&, d] {
      if (start->Block()) delete start;
      EXPECT_TRUE(Submit(d % 2 == 0 ? a : b, "acme-listing", 9999).ok());
    });
  }
  for (std::thread& t : threads) t.join();

  // acme's stream read in six parts, alternating replicas, each resumed from the last cursor.
  const size_t acme_events = 1 + kLeads / 2 + kDuplicates;
  std::vector<v1::SubscribeLeadsResponse> acme_stream;
  uint64_t cursor = 0;
  for (int part = 0; part < 6 && acme_stream.size() < acme_events; ++part) {
    const size_t want = part < 5 ? acme_events / 6 : acme_events - acme_stream.size();
    std::vector<v1::SubscribeLeadsResponse> got = Read(part % 2 == 0 ? b : a, acme, cursor, want);
    ASSERT_EQ(got.size(), want) << "part " << part;
    acme_stream.insert(acme_stream.end(), got.begin(), got.end());
    cursor = acme_stream.back().sequence();
  }
  std::vector<v1::SubscribeLeadsResponse> beta_stream = Read(a, beta, 0, kLeads / 2);
  ASSERT_EQ(acme_stream.size(), acme_events);
  ASSERT_EQ(beta_stream.size(), static_cast<size_t>(kLeads / 2));

  std::set<uint64_t> sequences;
  std::map<std::string, std::vector<v1::LeadEventType>> duplicate_lead;
  for (const auto& [stream, provider] :
       {std::pair{&acme_stream, "acme"}, std::pair{&beta_stream, "beta"}}) {
    for (size_t i = 0; i < stream->size(); ++i) {
      const v1::SubscribeLeadsResponse& e = (*stream)[i];
      if (i > 0) {
        EXPECT_LT((*stream)[i - 1].sequence(), e.sequence()) << provider << " at " << i;
      }
      EXPECT_EQ(e.lead().provider_id(), provider);  // No foreign lead.
      EXPECT_TRUE(sequences.insert(e.sequence()).second);
      if (e.lead().caller().phone() == "+12122009999") {
        duplicate_lead[e.lead().lead_id()].push_back(e.type());
      }
    }
  }
  // Every sequence of the log, 1 to the head, is in exactly one of the two streams: no gap.
  EXPECT_EQ(sequences.size(), acme_events + kLeads / 2);
  EXPECT_EQ(*sequences.begin(), 1u);
  EXPECT_EQ(*sequences.rbegin(), sequences.size());
  ASSERT_EQ(duplicate_lead.size(), 1u) << "simultaneous duplicates made more than one lead";
  const std::vector<v1::LeadEventType>& types = duplicate_lead.begin()->second;
  ASSERT_EQ(types.size(), static_cast<size_t>(kDuplicates));
  EXPECT_EQ(types[0], v1::LEAD_EVENT_TYPE_ASSIGNED);
  for (size_t i = 1; i < types.size(); ++i) EXPECT_EQ(types[i], v1::LEAD_EVENT_TYPE_RESUBMITTED);

  // Ops reassign that lead through B; each provider's stream on the other replica hears of
  // the move.
  const std::string& moved = duplicate_lead.begin()->first;
  const std::string admin = a.process->AdminToken();
  v1::ReassignLeadRequest reassign;
  reassign.set_lead_id(moved);
  reassign.set_provider_id("beta");
  v1::ReassignLeadResponse reassigned;
  const grpc::Status s = b.admin->ReassignLead(Context(admin).get(), reassign, &reassigned);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  EXPECT_EQ(reassigned.lead().provider_id(), "beta");
  const std::vector<v1::SubscribeLeadsResponse> away = Read(a, acme, cursor, 1);
  ASSERT_EQ(away.size(), 1u);
  EXPECT_EQ(away[0].type(), v1::LEAD_EVENT_TYPE_REASSIGNED_AWAY);
  EXPECT_EQ(away[0].lead().lead_id(), moved);
  EXPECT_EQ(away[0].lead().caller().phone(), "") << "acme must see nothing more of it";
  const std::vector<v1::SubscribeLeadsResponse> gained =
      Read(a, beta, beta_stream.back().sequence(), 1);
  ASSERT_EQ(gained.size(), 1u);
  EXPECT_EQ(gained[0].type(), v1::LEAD_EVENT_TYPE_ASSIGNED);
  EXPECT_EQ(gained[0].sequence(), away[0].sequence() + 1);
  EXPECT_EQ(gained[0].lead().caller().phone(), "+12122009999");

  // A token revoked through A is refused by B too.
  v1::RevokeProviderTokenRequest revoke;
  revoke.set_token_id(last_token_id_);  // beta's, issued through B.
  v1::RevokeProviderTokenResponse revoked;
  ASSERT_TRUE(
      a.admin->RevokeProviderToken(Context(a.process->AdminToken()).get(), revoke, &revoked).ok());
  EXPECT_EQ(ProviderCallSettles(b, beta, grpc::StatusCode::OK), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ReplicasTest, OneRequestIdSentToBothReplicasAtOnceIsStoredOnce) {
  Replica a, b;
  StartTwoReplicas(&a, &b);
  if (HasFatalFailure()) return;
  const std::string acme = AddProviderKnownTo(a, b, "acme");
  ASSERT_FALSE(acme.empty());
  constexpr size_t kRequests = 10;
  std::vector<std::thread> threads;
  threads.reserve(2 * kRequests);
  for (size_t n = 0; n < kRequests; ++n) {
    for (Replica* r : {&a, &b}) {
      threads.emplace_back([&, n, r] {
        EXPECT_TRUE(
            Submit(*r, "acme-listing", static_cast<int>(n), absl::StrCat("retry-", n)).ok());
      });
    }
  }
  for (std::thread& t : threads) t.join();
  std::vector<v1::SubscribeLeadsResponse> events = Read(b, acme, 0, kRequests);
  ASSERT_EQ(events.size(), kRequests);
  std::set<std::string> leads;
  for (const auto& e : events) {
    EXPECT_EQ(e.type(), v1::LEAD_EVENT_TYPE_ASSIGNED);
    leads.insert(e.lead().lead_id());
  }
  EXPECT_EQ(leads.size(), kRequests);
  // Nothing more came: a lead submitted now is the next event.
  ASSERT_TRUE(Submit(a, "acme-listing", 500).ok());
  std::vector<v1::SubscribeLeadsResponse> next = Read(a, acme, events.back().sequence(), 1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].sequence(), events.back().sequence() + 1);
}

// Issue 17's fleet test. Three replicas on one database; 3,000 leads submitted round-robin to
// all three by several clients, each pausing at random between calls, so commits of the
// replicas interleave in every order; midway, one caller's 50 simultaneous submissions spread
// over the three; all the while a subscriber per provider, starting on a replica of its own,
// reads its stream live and reconnects 5 times, each time to the next replica, resuming from
// its cursor. Each stream must end with exactly the events of its provider that the log holds,
// in strictly increasing sequence, and the log itself must have no gap.
TEST_F(ReplicasTest, ThreeReplicasUnderRandomLoadKeepEveryStreamCompleteAndInOrder) {
  constexpr int kReplicas = 3;
  constexpr int kLeads = 3000;
  constexpr int kClients = 6;
  constexpr int kDuplicates = 50;
  constexpr int kDuplicateCaller = 9999;
  constexpr int kSegments = 6;  // One stream, then 5 reconnects.
  std::vector<Replica> replicas;
  replicas.reserve(kReplicas);
  for (int i = 0; i < kReplicas; ++i) {
    replicas.push_back(StartReplica());
    ASSERT_NE(replicas.back().process, nullptr);
  }
  const std::vector<std::string> providers = {"acme", "beta", "gamma"};
  std::vector<std::string> tokens;
  tokens.reserve(providers.size());
  for (int p = 0; p < kReplicas; ++p) tokens.push_back(AddProvider(replicas[p], providers[p]));
  for (Replica& r : replicas) {
    for (const std::string& token : tokens) {
      ASSERT_EQ(ProviderCallSettles(r, token, grpc::StatusCode::UNAUTHENTICATED),
                grpc::StatusCode::OK);
    }
  }
  // Lead n goes to replica n % 3 and to provider (n / 3) % 3's listing, so every replica
  // serves every provider; the duplicates are acme's.
  std::vector<size_t> expected(providers.size(), 0);
  for (int n = 0; n < kLeads; ++n) ++expected[(n / kReplicas) % providers.size()];
  expected[0] += kDuplicates;

  std::vector<std::vector<v1::SubscribeLeadsResponse>> streams(providers.size());
  std::vector<std::thread> subscribers;
  subscribers.reserve(providers.size());
  for (size_t p = 0; p < providers.size(); ++p) {
    subscribers.emplace_back([&, p] {
      std::vector<v1::SubscribeLeadsResponse>& stream = streams[p];
      uint64_t cursor = 0;
      for (int segment = 0; segment < kSegments; ++segment) {
        const size_t until = expected[p] * (segment + 1) / kSegments;
        Replica& on = replicas[(p + segment) % replicas.size()];
        std::vector<v1::SubscribeLeadsResponse> got =
            Read(on, tokens[p], cursor, until - stream.size());
        if (got.empty()) return;  // Read failed the test already.
        stream.insert(stream.end(), got.begin(), got.end());
        cursor = stream.back().sequence();
      }
    });
  }

  std::atomic<int> acknowledged{0};
  std::vector<std::thread> clients;
  clients.reserve(kClients + kDuplicates);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 random(c);
      std::uniform_int_distribution<int> pause_us(0, 2000);
      for (int n = c; n < kLeads; n += kClients) {
        absl::SleepFor(absl::Microseconds(pause_us(random)));
        const std::string& listing = providers[(n / kReplicas) % providers.size()] + "-listing";
        // As a client of a fleet does: a retryable failure is retried on the next replica,
        // with the same request_id, so it is stored once whichever attempt got through.
        const std::string request_id = absl::StrCat("lead-", n);
        grpc::Status s;
        for (int attempt = 0; attempt < kReplicas * 2; ++attempt) {
          s = Submit(replicas[(n + attempt) % kReplicas], listing, n, request_id);
          if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
              s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
            break;
          }
        }
        EXPECT_TRUE(s.ok()) << "lead " << n << ": " << s.error_code() << " " << s.error_message();
        ++acknowledged;
      }
    });
  }
  // The duplicates go out at once when about half of the leads are in.
  auto* start = new absl::Barrier(kDuplicates);
  for (int d = 0; d < kDuplicates; ++d) {
    clients.emplace_back([&, d, start] {
      while (acknowledged.load() < kLeads / 2) absl::SleepFor(absl::Milliseconds(1));
      if (start->Block()) delete start;
      EXPECT_TRUE(Submit(replicas[d % kReplicas], "acme-listing", kDuplicateCaller).ok());
    });
  }
  for (std::thread& t : clients) t.join();
  for (std::thread& t : subscribers) t.join();

  const std::map<uint64_t, std::string> log = EventLog();
  ASSERT_EQ(log.size(), kLeads + kDuplicates);
  EXPECT_EQ(log.begin()->first, 1u);
  EXPECT_EQ(log.rbegin()->first, log.size()) << "the log has a gap";
  for (size_t p = 0; p < providers.size(); ++p) {
    const std::vector<v1::SubscribeLeadsResponse>& stream = streams[p];
    std::vector<uint64_t> want;
    for (const auto& [sequence, provider] : log) {
      if (provider == providers[p]) want.push_back(sequence);
    }
    std::vector<uint64_t> got;
    got.reserve(stream.size());
    for (size_t i = 0; i < stream.size(); ++i) {
      const v1::SubscribeLeadsResponse& e = stream[i];
      got.push_back(e.sequence());
      if (i > 0) {
        EXPECT_LT(stream[i - 1].sequence(), e.sequence()) << providers[p] << " at " << i;
      }
      EXPECT_EQ(e.lead().provider_id(), providers[p]) << "a foreign lead at " << e.sequence();
    }
    EXPECT_EQ(want.size(), expected[p]) << providers[p];
    EXPECT_EQ(got, want) << providers[p] << "'s stream is not its part of the log";
  }
  std::map<std::string, std::vector<v1::LeadEventType>> duplicate_lead;
  for (const v1::SubscribeLeadsResponse& e : streams[0]) {
    if (e.lead().caller().phone() == "+12122009999") {
      duplicate_lead[e.lead().lead_id()].push_back(e.type());
    }
  }
  ASSERT_EQ(duplicate_lead.size(), 1u) << "simultaneous duplicates made more than one lead";
  const std::vector<v1::LeadEventType>& types = duplicate_lead.begin()->second;
  ASSERT_EQ(types.size(), static_cast<size_t>(kDuplicates));
  EXPECT_EQ(types[0], v1::LEAD_EVENT_TYPE_ASSIGNED);
  for (size_t i = 1; i < types.size(); ++i) EXPECT_EQ(types[i], v1::LEAD_EVENT_TYPE_RESUBMITTED);
}

// A replica SIGKILLed under load. Clients submit new leads to all three replicas; a call that
// fails (the killed replica's calls in flight, then its refused connections) is sent again,
// with the same request_id, to the next replica until one acknowledges it. Every acknowledged
// submission must then be stored exactly once, under the submission_id its client was given,
// as one lead with one event, and a stream on a survivor carries each lead once.
TEST_F(ReplicasTest, AReplicaKilledUnderLoadLosesNoAcknowledgedLeadAndRetriesStoreItOnce) {
  constexpr int kReplicas = 3;
  constexpr int kLanes = 6;
  constexpr int kBeforeKill = 300;
  constexpr int kAfterKill = 300;
  std::vector<Replica> replicas;
  replicas.reserve(kReplicas);
  for (int i = 0; i < kReplicas; ++i) {
    replicas.push_back(StartReplica());
    ASSERT_NE(replicas.back().process, nullptr);
  }
  const std::string acme = AddProvider(replicas[0], "acme");
  ASSERT_EQ(ProviderCallSettles(replicas[1], acme, grpc::StatusCode::UNAUTHENTICATED),
            grpc::StatusCode::OK);

  absl::Mutex mu;
  std::map<std::string, std::string> acknowledged;  // request_id -> submission_id
  int retried = 0;
  std::atomic<bool> stop{false};
  std::vector<std::thread> lanes;
  lanes.reserve(kLanes);
  for (int lane = 0; lane < kLanes; ++lane) {
    lanes.emplace_back([&, lane] {
      int to = lane % kReplicas;
      for (int k = 0; !stop.load(); ++k) {
        const int n = k * kLanes + lane;
        const std::string request_id = absl::StrCat("kill-", n);
        const v1::SubmitCallbackRequest request = Request("acme-listing", n, request_id);
        for (int attempt = 0;; ++attempt) {
          v1::SubmitCallbackResponse response;
          const grpc::Status s = replicas[to].intake->SubmitCallback(
              Context("", absl::Seconds(10)).get(), request, &response);
          to = (to + 1) % kReplicas;  // Round-robin, and a failed call's retry goes elsewhere.
          if (s.ok()) {
            absl::MutexLock lock(&mu);
            acknowledged[request_id] = response.submission_id();
            if (attempt > 0) ++retried;
            break;
          }
          ASSERT_LT(attempt, 20) << s.error_code() << " " << s.error_message();
        }
      }
    });
  }
  const auto acknowledged_count = [&] {
    absl::MutexLock lock(&mu);
    return static_cast<int>(acknowledged.size());
  };
  const absl::Time deadline = absl::Now() + kDeadline;
  while (acknowledged_count() < kBeforeKill && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  const ExitResult killed = replicas[2].process->Stop(SIGKILL);
  EXPECT_EQ(killed.exit_code, 128 + SIGKILL);
  const int at_kill = acknowledged_count();
  while (acknowledged_count() < at_kill + kAfterKill && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  stop = true;
  for (std::thread& t : lanes) t.join();
  ASSERT_GE(acknowledged_count(), at_kill + kAfterKill);
  EXPECT_GT(retried, 0) << "no call met the killed replica: the test proved nothing";

  absl::StatusOr<std::unique_ptr<store::postgres::Connection>> conn =
      store::postgres::Connection::Open(uri_, "replicas-test");
  ASSERT_TRUE(conn.ok()) << conn.status();
  absl::StatusOr<store::postgres::Result> submissions = (*conn)->Exec(
      "SELECT s.request_id, s.submission_id, l.submission_count, "
      "       (SELECT count(*) FROM lead_events e WHERE e.lead_id = l.lead_id) "
      "FROM submissions s JOIN leads l USING (lead_id)");
  ASSERT_TRUE(submissions.ok()) << submissions.status();
  std::map<std::string, std::string> stored;
  for (int i = 0; i < submissions->rows(); ++i) {
    const std::string request_id(submissions->Text(i, 0));
    EXPECT_EQ(submissions->Int64(i, 2), 1) << request_id << " was merged into by a retry";
    EXPECT_EQ(submissions->Int64(i, 3), 1) << request_id << "'s lead has more than one event";
    EXPECT_TRUE(stored.emplace(request_id, submissions->Text(i, 1)).second);
  }
  absl::StatusOr<store::postgres::Result> leads = (*conn)->Exec("SELECT count(*) FROM leads");
  ASSERT_TRUE(leads.ok()) << leads.status();
  EXPECT_EQ(leads->Int64(0, 0), static_cast<int64_t>(stored.size())) << "a lead of no submission";
  absl::MutexLock lock(&mu);
  for (const auto& [request_id, submission_id] : acknowledged) {
    auto it = stored.find(request_id);
    ASSERT_NE(it, stored.end()) << request_id << " was acknowledged and is not stored";
    EXPECT_EQ(it->second, submission_id) << request_id;
  }
  // Only a submission whose reply the kill cut off and whose client then stopped may be stored
  // without its acknowledgement: every lane retried until it got one.
  EXPECT_EQ(stored.size(), acknowledged.size());

  const std::vector<v1::SubscribeLeadsResponse> stream =
      Read(replicas[1], acme, 0, acknowledged.size());
  std::set<std::string> streamed;
  for (const v1::SubscribeLeadsResponse& e : stream) {
    EXPECT_EQ(e.type(), v1::LEAD_EVENT_TYPE_ASSIGNED);
    EXPECT_TRUE(streamed.insert(e.lead().lead_id()).second) << "a lead streamed twice";
  }
  EXPECT_EQ(streamed.size(), acknowledged.size());
}

// intake-bench against a fleet: --target lists both replicas, the calls' channels go to each
// in turn and the delivery stream to the first, so it must receive every lead, half of them
// committed through the other replica, and that replica must have taken its share.
TEST_F(ReplicasTest, TheBenchSpreadsItsCallsOverEveryReplicaGivenAndLosesNoDelivery) {
  Replica a, b;
  StartTwoReplicas(&a, &b);
  if (HasFatalFailure()) return;
  TempDir out;
  const std::string command = absl::StrCat(
      INTAKE_BENCH_PATH,
      " --mode=delivery --warmup=0s --duration=1s --rate=200 --concurrency=4 --channels=2",
      " --target=", a.process->listen_address(), ",", b.process->listen_address(),
      " --admin_target=", a.process->admin_address(), " --admin_token_file=", secrets_.path(),
      "/admin.token >", out.File("out"), " 2>", out.File("err"));
  const int status = std::system(command.c_str());
  const std::string report = ReadTextFile(out.File("out"));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadTextFile(out.File("err"));
  EXPECT_NE(report.find(R"("lost": 0,)"), std::string::npos) << report;
  EXPECT_NE(report.find(R"("stream_error": null)"), std::string::npos) << report;

  absl::StatusOr<std::string> metrics = HttpGet(b.process->metrics_address(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const std::string series = R"(intake_submissions_total{outcome="lead"} )";
  const size_t at = metrics->find(series);
  ASSERT_NE(at, std::string::npos) << *metrics;
  double leads = 0;
  ASSERT_TRUE(
      absl::SimpleAtod(absl::string_view(*metrics).substr(
                           at + series.size(), metrics->find('\n', at) - at - series.size()),
                       &leads));
  EXPECT_GE(leads, 50) << "the second replica took too few of the ~200 submissions";
}

}  // namespace
}  // namespace intake::testing
