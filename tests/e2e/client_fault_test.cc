// Clients that misbehave do not hurt the others: a huge metadata header, 10,000 streams that
// are never read and calls cancelled halfway are each refused or cleaned up while others are
// served. (A dashboard frozen under load: frozen_dashboard_test.cc.)
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "grpc/grpc.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "tests/e2e/load_helpers.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/testing/temp_dir.h"

namespace intake::testing {
namespace {

using bench::SyntheticSubmissions;

constexpr absl::Duration kPatience = absl::Seconds(60);

// A submission anyone can make, to see that the server still serves.
grpc::Status SubmitOne(const std::shared_ptr<grpc::Channel>& channel, const std::string& tag,
                       uint64_t n, const std::string& listing_id = "") {
  v1::SubmitCallbackRequest request;
  SyntheticSubmissions(tag, 0, listing_id).Fill(n, &request);
  v1::SubmitCallbackResponse response;
  return v1::IntakeService::NewStub(channel)->SubmitCallback(Context().get(), request, &response);
}

TEST(ClientFaultTest, AHugeMetadataHeaderIsRefusedNotEchoedAndOthersAreServed) {
  auto server = IntakedProcess::Start();
  ASSERT_NE(server, nullptr);
  for (const size_t size : {size_t{64} << 10, size_t{4} << 20}) {
    SCOPED_TRACE(size);
    auto context = Context("", absl::Seconds(30));
    context->AddMetadata("x-filler", std::string(size, 'q'));
    context->AddMetadata("authorization", "Bearer " + std::string(size, 'z'));
    v1::SubmitCallbackRequest request;
    SyntheticSubmissions("hugemetadata0000", 0, "").Fill(size, &request);
    v1::SubmitCallbackResponse response;
    // A connection of its own (gRPC shares one per address by default): the server may close
    // the offender's, and "others" are the other clients.
    grpc::ChannelArguments own_connection;
    own_connection.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    const grpc::Status status =
        v1::IntakeService::NewStub(grpc::CreateCustomChannel(server->listen_address(),
                                                             grpc::InsecureChannelCredentials(),
                                                             own_connection))
            ->SubmitCallback(context.get(), request, &response);
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.error_message().find("qqqqqqqq"), std::string::npos);
    const grpc::Status other = SubmitOne(server->PublicChannel(), "hugemetaothers00", size);
    EXPECT_TRUE(other.ok()) << other.error_code() << ": " << other.error_message();
  }
  EXPECT_EQ(server->Stderr().find("qqqqqqqq"), std::string::npos) << "the header was logged";
  EXPECT_EQ(server->Stderr().find("zzzzzzzz"), std::string::npos) << "the token was logged";
}

// A second provider with a listing "<id>-listing" and a token, made through the admin API.
bench::BenchProvider AddProvider(const IntakedProcess& server, const std::string& id) {
  auto admin = v1::AdminService::NewStub(server.AdminChannel());
  return {id, id + "-listing", CreateTestProvider(*admin, server.AdminToken(), id).token};
}

// A stream that is opened and never read: the client's flow-control window fills and the
// server's writes wait.
class UnreadStream final : public grpc::ClientReadReactor<v1::SubscribeLeadsResponse> {
 public:
  UnreadStream(v1::ProviderService::Stub* stub, const std::string& token) {
    context_.AddMetadata("authorization", "Bearer " + token);
    stub->async()->SubscribeLeads(&context_, &request_, this);
    StartCall();
  }
  ~UnreadStream() override {
    context_.TryCancel();
    done_.WaitForNotification();
  }
  void OnDone(const grpc::Status&) override { done_.Notify(); }

 private:
  grpc::ClientContext context_;
  v1::SubscribeLeadsRequest request_;
  absl::Notification done_;
};

TEST(ClientFaultTest, TenThousandStreamsNeverReadLeaveTheServerServingOthers) {
  constexpr int kStreams = 10000;
  constexpr int kConnections = 20;
  TempDir dir(std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp");
  ServerWithProvider server = StartWithProvider(dir.File("var"));
  ASSERT_NE(server.process, nullptr);
  std::vector<std::unique_ptr<v1::ProviderService::Stub>> stubs;
  for (const auto& channel :
       bench::OpenChannels(server.process->listen_address(), kConnections, {})) {
    stubs.push_back(v1::ProviderService::NewStub(channel));
  }
  const bench::BenchProvider neighbour = AddProvider(*server.process, "neighbour");
  const int64_t heap_before = AnonymousKib(server.process->pid());
  std::vector<std::unique_ptr<UnreadStream>> hoarded;
  hoarded.reserve(kStreams);
  for (int i = 0; i < kStreams; ++i) {
    hoarded.push_back(
        std::make_unique<UnreadStream>(stubs[i % kConnections].get(), server.provider.token));
  }
  // Leads for the hoarding provider: every one of its streams has events to send and no reader.
  const std::shared_ptr<grpc::Channel> other = server.process->PublicChannel();
  for (int n = 0; n < 10; ++n) {
    ASSERT_TRUE(SubmitOne(other, "hoardedstreams00", n, server.provider.listing_id).ok());
  }
  // Meanwhile another provider's leads are taken and its dashboard gets every one.
  for (int n = 0; n < 50; ++n) {
    ASSERT_TRUE(SubmitOne(other, "neighbourleads00", n, neighbour.listing_id).ok());
  }
  auto context = Context(neighbour.token, kPatience);
  auto reader = v1::ProviderService::NewStub(other)->SubscribeLeads(context.get(),
                                                                    v1::SubscribeLeadsRequest());
  v1::SubscribeLeadsResponse event;
  int events = 0;
  while (events < 50 && reader->Read(&event)) {
    events += event.type() != v1::LEAD_EVENT_TYPE_HEARTBEAT;
  }
  EXPECT_EQ(events, 50);
  context->TryCancel();
  reader->Finish();
  const int64_t heap_with_streams = AnonymousKib(server.process->pid());
  RecordProperty("heap_kib_per_stream",
                 static_cast<int>((heap_with_streams - heap_before) / kStreams));
  hoarded.clear();
  EXPECT_TRUE(SubmitOne(other, "hoardedstreams00", 10, server.provider.listing_id).ok());
}

TEST(ClientFaultTest, CallsCancelledHalfwayLeaveTheServerServing) {
  TempDir dir(std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp");
  ServerWithProvider server = StartWithProvider(dir.File("var"));
  ASSERT_NE(server.process, nullptr);
  constexpr int kThreads = 8;
  constexpr int kCallsPerThread = 150;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::shared_ptr<grpc::Channel> channel = server.process->PublicChannel();
      auto intake = v1::IntakeService::NewStub(channel);
      auto provider = v1::ProviderService::NewStub(channel);
      std::mt19937 random(t);
      const SyntheticSubmissions submissions(absl::StrFormat("cancelled%07d", t), 0,
                                             server.provider.listing_id);
      for (int i = 0; i < kCallsPerThread; ++i) {
        const absl::Duration cancel_after = absl::Microseconds(random() % 3000);
        auto context = Context(server.provider.token);
        if (i % 2 == 0) {
          // A submission cancelled before, during or after its commit.
          v1::SubmitCallbackRequest request;
          submissions.Fill(i, &request);
          v1::SubmitCallbackResponse response;
          absl::Notification done;
          intake->async()->SubmitCallback(context.get(), &request, &response,
                                          [&](const grpc::Status&) { done.Notify(); });
          absl::SleepFor(cancel_after);
          context->TryCancel();
          done.WaitForNotification();
        } else {
          // A stream cancelled in the middle of its replay.
          auto reader = provider->SubscribeLeads(context.get(), v1::SubscribeLeadsRequest());
          v1::SubscribeLeadsResponse event;
          int reads = static_cast<int>(random() % 4);
          while (reads-- > 0 && reader->Read(&event)) {
          }
          context->TryCancel();
          reader->Finish();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(SubmitOne(server.process->PublicChannel(), "aftercancels0000", 0).ok());
  // Still alive and well: a fresh stream replays what was stored.
  auto context = Context(server.provider.token);
  auto reader = v1::ProviderService::NewStub(server.process->PublicChannel())
                    ->SubscribeLeads(context.get(), v1::SubscribeLeadsRequest());
  v1::SubscribeLeadsResponse event;
  EXPECT_TRUE(reader->Read(&event));
  context->TryCancel();
  reader->Finish();
}

}  // namespace
}  // namespace intake::testing
