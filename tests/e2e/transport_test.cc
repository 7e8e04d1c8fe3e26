// The gRPC transport settings of both listeners, end to end against the real intaked: a
// connection past --max_connection_age (and its grace) is closed, so long streams end with
// UNAVAILABLE and clients reconnect (an L4 load balancer then spreads them anew); a client
// pinging too often is sent away; --max_concurrent_streams bounds the calls on one connection.
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"

namespace intake::testing {
namespace {

// How a WatchLeads stream opened on `channel` ended, and when (nullopt status: it did not end
// within `timeout`, and was cancelled).
struct StreamEnd {
  grpc::Status status;
  absl::Duration after;
};
StreamEnd WatchUntilItEnds(const std::shared_ptr<grpc::Channel>& channel, const std::string& token,
                           absl::Duration timeout) {
  auto admin = v1::AdminService::NewStub(channel);
  auto context = Context(token, timeout);
  const absl::Time start = absl::Now();
  auto reader = admin->WatchLeads(context.get(), {});
  v1::WatchLeadsResponse message;
  while (reader->Read(&message)) {
  }
  return {reader->Finish(), absl::Now() - start};
}

TEST(TransportTest, AConnectionPastItsMaxAgeAndGraceIsClosed) {
  auto server = IntakedProcess::Start(
      {"--max_connection_age=1s", "--max_connection_age_grace=1s", "--heartbeat_interval=1h"});
  ASSERT_NE(server, nullptr);
  const StreamEnd end =
      WatchUntilItEnds(server->AdminChannel(), server->AdminToken(), absl::Seconds(60));
  EXPECT_EQ(end.status.error_code(), grpc::StatusCode::UNAVAILABLE) << end.status.error_message();
  // gRPC jitters the age by ±10 %.
  EXPECT_GE(end.after, absl::Milliseconds(1800));
  EXPECT_LT(end.after, absl::Seconds(50)) << "not the deadline";
}

TEST(TransportTest, WithoutAMaxAgeTheStreamLives) {
  auto server = IntakedProcess::Start({"--max_connection_age=0", "--heartbeat_interval=1h"});
  ASSERT_NE(server, nullptr);
  const StreamEnd end =
      WatchUntilItEnds(server->AdminChannel(), server->AdminToken(), absl::Seconds(4));
  EXPECT_EQ(end.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << end.status.error_message();
}

// A client sending keepalive pings every 200 ms, far more often than the 5 s the server
// accepts, on a connection with no data flowing: GOAWAY (too_many_pings) after two strikes.
TEST(TransportTest, AClientPingingTooOftenIsSentAway) {
  auto server = IntakedProcess::Start({"--heartbeat_interval=1h"});
  ASSERT_NE(server, nullptr);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 200);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  auto channel =
      grpc::CreateCustomChannel(server->admin_address(), grpc::InsecureChannelCredentials(), args);
  const StreamEnd end = WatchUntilItEnds(channel, server->AdminToken(), absl::Seconds(60));
  EXPECT_EQ(end.status.error_code(), grpc::StatusCode::UNAVAILABLE) << end.status.error_message();
  EXPECT_LT(end.after, absl::Seconds(50)) << "not the deadline";
}

// With one call allowed per connection, a second call on the same connection waits in the
// client while the first is open; a call on another connection does not.
TEST(TransportTest, MaxConcurrentStreamsBoundsCallsPerConnection) {
  auto server = IntakedProcess::Start({"--max_concurrent_streams=1"});
  ASSERT_NE(server, nullptr);
  const std::string token = server->AdminToken();
  auto channel = server->AdminChannel();
  auto admin = v1::AdminService::NewStub(channel);
  auto stream_context = Context(token, absl::Seconds(60));
  auto reader = admin->WatchLeads(stream_context.get(), {});
  // The stream is open once a submission's event arrives on it.
  auto intake = v1::IntakeService::NewStub(server->PublicChannel());
  v1::SubmitCallbackResponse submitted;
  ASSERT_TRUE(intake->SubmitCallback(Context().get(), ValidRequest(), &submitted).ok());
  v1::WatchLeadsResponse event;
  ASSERT_TRUE(reader->Read(&event));

  v1::ListProvidersResponse providers;
  EXPECT_EQ(
      admin->ListProviders(Context(token, absl::Seconds(2)).get(), {}, &providers).error_code(),
      grpc::StatusCode::DEADLINE_EXCEEDED)
      << "the second call on the connection waited for the first";
  grpc::ChannelArguments separate;
  separate.SetInt("intake.test.channel", 1);
  auto other = v1::AdminService::NewStub(grpc::CreateCustomChannel(
      server->admin_address(), grpc::InsecureChannelCredentials(), separate));
  EXPECT_TRUE(other->ListProviders(Context(token).get(), {}, &providers).ok());
  stream_context->TryCancel();
  reader->Finish();
}

TEST(TransportFlagsTest, OutOfRangeValuesAreUsageErrors) {
  for (const char* flag : {"--max_connection_age=-1s", "--max_connection_age_grace=-1s",
                           "--max_concurrent_streams=0", "--max_streams_per_token=-1"}) {
    EXPECT_EQ(RunIntaked({flag}).exit_code, 2) << flag;
  }
}

}  // namespace
}  // namespace intake::testing
