#include "client/bench/submit_mode.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/bench/channels.h"
#include "client/bench/echo_server.h"
#include "client/bench/load_loop.h"
#include "client/bench/report.h"
#include "client/bench/server_under_test.h"
#include "client/bench/synthetic_submissions.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/byte_buffer.h"
#include "intake/v1/intake_service.grpc.pb.h"

namespace intake::bench {
namespace {

constexpr absl::Duration kConnectTimeout = absl::Seconds(30);

// 16 characters of [a-z0-9] for this run's request_ids.
std::string RandomRunTag(std::mt19937_64& random) {
  constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string tag;
  for (int i = 0; i < 16; ++i) tag.push_back(kAlphabet[pick(random)]);
  return tag;
}

std::chrono::system_clock::time_point DeadlineIn(absl::Duration timeout) {
  return absl::ToChronoTime(absl::Now() + timeout);
}

// Puts the first failed call of a phase on stderr, so that a report full of errors comes with
// a reason. Thread-safe.
class FirstErrorLog {
 public:
  explicit FirstErrorLog(std::string phase) : phase_(std::move(phase)) {}

  void Note(const grpc::Status& status) {
    if (status.ok() || logged_.exchange(true)) return;
    std::cerr << absl::StrFormat(
        "intake-bench: %s: first failed call: %s: %s\n", phase_,
        absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
        status.error_message());
  }

 private:
  const std::string phase_;
  std::atomic<bool> logged_{false};
};

struct EchoCall {
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
};

// Echo calls that cost the client what submit calls cost it: each builds a fresh request and
// serializes it exactly as the generated stub would, then sends those bytes. The pointers must
// outlive the loop.
CallStarter EchoCalls(const std::vector<std::unique_ptr<grpc::GenericStub>>* stubs,
                      const SyntheticSubmissions* submissions, absl::Duration timeout,
                      FirstErrorLog* errors) {
  return [=](int lane, uint64_t call_index, CallDone done) {
    auto* call = new EchoCall;
    call->context.set_deadline(DeadlineIn(timeout));
    intake::v1::SubmitCallbackRequest request;
    submissions->Fill(call_index, &request);
    bool own_buffer = false;
    if (!grpc::SerializationTraits<intake::v1::SubmitCallbackRequest>::Serialize(
             request, &call->request, &own_buffer)
             .ok()) {
      std::cerr << "intake-bench: cannot serialize a SubmitCallbackRequest\n";
      std::abort();
    }
    (*stubs)[lane % stubs->size()]->UnaryCall(
        &call->context, EchoServer::kMethod, grpc::StubOptions(), &call->request, &call->response,
        [call, errors, done = std::move(done)](const grpc::Status& status) {
          delete call;
          errors->Note(status);
          done(status.error_code());
        });
  };
}

struct SubmitCall {
  grpc::ClientContext context;
  intake::v1::SubmitCallbackRequest request;
  intake::v1::SubmitCallbackResponse response;
};

// SubmitCallback calls, call i from caller i. The pointers must outlive the loop.
CallStarter SubmitCalls(const std::vector<std::unique_ptr<intake::v1::IntakeService::Stub>>* stubs,
                        const SyntheticSubmissions* submissions, absl::Duration timeout,
                        FirstErrorLog* errors) {
  return [=](int lane, uint64_t call_index, CallDone done) {
    auto* call = new SubmitCall;
    call->context.set_deadline(DeadlineIn(timeout));
    submissions->Fill(call_index, &call->request);
    (*stubs)[lane % stubs->size()]->async()->SubmitCallback(
        &call->context, &call->request, &call->response,
        [call, errors, done = std::move(done)](const grpc::Status& status) {
          delete call;
          errors->Note(status);
          done(status.error_code());
        });
  };
}

void LogPhase(absl::string_view phase, const LoadResult& result) {
  std::cerr << absl::StrFormat("intake-bench: %s: %.0f calls/s, %d errors\n", phase,
                               result.ok_per_second(), result.error_count());
}

// The echo phase, with its own server and channels, all gone when it returns.
absl::StatusOr<LoadResult> RunEchoPhase(const BenchConfig& config, const LoadOptions& load,
                                        const SyntheticSubmissions& submissions) {
  absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Start();
  if (!server.ok()) return server.status();
  const std::vector<std::shared_ptr<grpc::Channel>> channels =
      OpenChannels((*server)->address(), config.channels);
  if (!WaitUntilConnected(channels, absl::Now() + kConnectTimeout)) {
    return absl::UnavailableError("cannot connect to the echo server");
  }
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  stubs.reserve(channels.size());
  for (const auto& channel : channels) {
    stubs.push_back(std::make_unique<grpc::GenericStub>(channel));
  }
  FirstErrorLog errors("echo");
  std::cerr << "intake-bench: echo: " << (*server)->address() << "\n";
  LoadResult result =
      RunClosedLoop(load, EchoCalls(&stubs, &submissions, config.call_timeout, &errors));
  LogPhase("echo", result);
  return result;
}

}  // namespace

int RunSubmitMode(const BenchConfig& config) {
  std::mt19937_64 random(std::random_device{}());
  const SyntheticSubmissions submissions(RandomRunTag(random), random(), config.listing_id);
  intake::v1::SubmitCallbackRequest sample;
  submissions.Fill(0, &sample);
  const size_t message_bytes = sample.ByteSizeLong();

  absl::StatusOr<std::unique_ptr<ServerUnderTest>> server = ServerUnderTest::Acquire(config);
  if (!server.ok()) {
    std::cerr << "intake-bench: " << server.status().message() << "\n";
    return 1;
  }
  const std::string address = (*server)->address();
  const bool spawned = (*server)->spawned();
  std::cerr << "intake-bench: submit: " << address << (spawned ? " (spawned intaked)" : "") << "\n";
  const std::vector<std::shared_ptr<grpc::Channel>> channels =
      OpenChannels(address, config.channels);
  if (!WaitUntilConnected(channels, absl::Now() + kConnectTimeout)) {
    std::cerr << "intake-bench: cannot connect to " << address << " within "
              << absl::FormatDuration(kConnectTimeout) << "\n";
    return 1;
  }

  const LoadOptions load{config.concurrency, config.warmup, config.duration};
  absl::StatusOr<LoadResult> echo = RunEchoPhase(config, load, submissions);
  if (!echo.ok()) {
    std::cerr << "intake-bench: " << echo.status().message() << "\n";
    return 1;
  }

  std::vector<std::unique_ptr<intake::v1::IntakeService::Stub>> stubs;
  stubs.reserve(channels.size());
  for (const auto& channel : channels) {
    stubs.push_back(intake::v1::IntakeService::NewStub(channel));
  }
  FirstErrorLog errors("submit");
  LoadResult submit =
      RunClosedLoop(load, SubmitCalls(&stubs, &submissions, config.call_timeout, &errors));
  LogPhase("submit", submit);
  (*server)->Release();

  const double echo_rate = echo->ok_per_second();
  const std::string ratio =
      echo_rate > 0 ? absl::StrFormat("%.4f", submit.ok_per_second() / echo_rate) : "null";
  std::cout << absl::StrFormat(
                   R"({"mode": "submit", "echo": %s, "submit": %s, "ratio": %s, )"
                   R"("concurrency": %d, "channels": %d, "warmup_s": %g, "duration_s": %g, )"
                   R"("message_bytes": %d, "listing_id": %s, )"
                   R"("server": {"address": %s, "spawned": %s}, "machine": {"cpus": %d}})",
                   LoadResultJson(*echo), LoadResultJson(submit), ratio, config.concurrency,
                   config.channels, absl::ToDoubleSeconds(config.warmup),
                   absl::ToDoubleSeconds(config.duration), message_bytes,
                   JsonString(config.listing_id), JsonString(address), spawned ? "true" : "false",
                   AvailableCpus())
            << std::endl;
  return 0;
}

}  // namespace intake::bench
