// Several intaked replicas on one PostgreSQL database (--database), end to end: the real
// binaries on port 0, a private PostgreSQL 15 (tests/testing/pg_server.h), one copy of the
// fleet's secrets that no replica writes. Leads submitted to any replica reach a provider's
// stream on any other, in strictly increasing sequence with no gap in the log; duplicates
// arriving at once on different replicas make one lead; tokens issued or revoked through one
// replica hold on all.
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/barrier.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/testing/pg_server.h"
#include "tests/testing/temp_dir.h"

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

  static grpc::Status Submit(Replica& r, const std::string& listing, int n,
                             const std::string& request_id = "") {
    v1::SubmitCallbackRequest request =
        ValidRequest(absl::StrFormat("(212) %03d-%04d", 200 + n / 10000, n % 10000));
    request.set_listing_id(listing);
    request.set_request_id(request_id);
    v1::SubmitCallbackResponse response;
    return r.intake->SubmitCallback(Context().get(), request, &response);
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

  TempDir secrets_;
  std::string uri_;
  std::string last_token_id_;
};

TEST_F(ReplicasTest, StreamsOnAnyReplicaSeeEveryLeadOfAnyReplicaInOrderWithNoGap) {
  Replica a = StartReplica();
  ASSERT_NE(a.process, nullptr);
  Replica b = StartReplica();
  ASSERT_NE(b.process, nullptr);
  const std::string acme = AddProvider(a, "acme");
  const std::string beta = AddProvider(b, "beta");
  // Each token was issued through one replica; the other learns it by notification.
  ASSERT_EQ(ProviderCallSettles(b, acme, grpc::StatusCode::UNAUTHENTICATED), grpc::StatusCode::OK);
  ASSERT_EQ(ProviderCallSettles(a, beta, grpc::StatusCode::UNAUTHENTICATED), grpc::StatusCode::OK);

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

  // A token revoked through A is refused by B too.
  v1::RevokeProviderTokenRequest revoke;
  revoke.set_token_id(last_token_id_);  // beta's, issued through B.
  v1::RevokeProviderTokenResponse revoked;
  ASSERT_TRUE(
      a.admin->RevokeProviderToken(Context(a.process->AdminToken()).get(), revoke, &revoked).ok());
  EXPECT_EQ(ProviderCallSettles(b, beta, grpc::StatusCode::OK), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ReplicasTest, OneRequestIdSentToBothReplicasAtOnceIsStoredOnce) {
  Replica a = StartReplica();
  ASSERT_NE(a.process, nullptr);
  Replica b = StartReplica();
  ASSERT_NE(b.process, nullptr);
  const std::string acme = AddProvider(a, "acme");
  ASSERT_EQ(ProviderCallSettles(b, acme, grpc::StatusCode::UNAUTHENTICATED), grpc::StatusCode::OK);
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

}  // namespace
}  // namespace intake::testing
