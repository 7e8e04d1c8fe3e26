#include "client/bench/submit_mode.h"

#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "client/bench/channels.h"
#include "client/bench/echo_phase.h"
#include "client/bench/first_error_log.h"
#include "client/bench/load_loop.h"
#include "client/bench/report.h"
#include "client/bench/server_under_test.h"
#include "client/bench/synthetic_submissions.h"
#include "grpcpp/client_context.h"
#include "intake/v1/intake_service.grpc.pb.h"

namespace intake::bench {
namespace {

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

}  // namespace

int RunSubmitMode(const BenchConfig& config) {
  std::mt19937_64 random(std::random_device{}());
  const SyntheticSubmissions submissions =
      SyntheticSubmissions::ForNewRun(random, config.listing_id);
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
      OpenChannels(address, config.channels, config.tls);
  if (!WaitUntilConnected(channels, absl::Now() + kConnectTimeout)) {
    std::cerr << "intake-bench: cannot connect to " << address << " within "
              << absl::FormatDuration(kConnectTimeout) << "\n";
    return 1;
  }

  const LoadOptions load{config.concurrency, config.warmup, config.duration};
  absl::StatusOr<LoadResult> echo_before = RunEchoPhase(config, load, submissions);
  if (!echo_before.ok()) {
    std::cerr << "intake-bench: " << echo_before.status().message() << "\n";
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
  const std::string server_json = (*server)->Json();
  (*server)->Release();

  // Echo again, after the submit phase. On a shared machine one phase now and then runs at half
  // speed (seen: 27k against 56k echo calls/s, a minute apart, on an idle 2-core VM), and an echo
  // phase caught that way would double the ratio. The ratio is to the faster of the two, so one
  // slow phase cannot raise it; a slow spell across both still can, which "echo_calls_per_s"
  // shows.
  absl::StatusOr<LoadResult> echo_after = RunEchoPhase(config, load, submissions);
  if (!echo_after.ok()) {
    std::cerr << "intake-bench: " << echo_after.status().message() << "\n";
    return 1;
  }
  LoadResult& echo =
      echo_after->ok_per_second() > echo_before->ok_per_second() ? *echo_after : *echo_before;
  const double echo_rate = echo.ok_per_second();
  const std::string ratio =
      echo_rate > 0 ? absl::StrFormat("%.4f", submit.ok_per_second() / echo_rate) : "null";
  std::cout << absl::StrFormat(
                   R"({"mode": "submit", "echo": %s, "submit": %s, "ratio": %s, )"
                   R"("echo_calls_per_s": [%.1f, %.1f], )"
                   R"("concurrency": %d, "channels": %d, "warmup_s": %g, "duration_s": %g, )"
                   R"("message_bytes": %d, "listing_id": %s, "tls": %s, )"
                   R"("server": %s, "machine": {"cpus": %d}})",
                   LoadResultJson(echo), LoadResultJson(submit), ratio,
                   echo_before->ok_per_second(), echo_after->ok_per_second(), config.concurrency,
                   config.channels, absl::ToDoubleSeconds(config.warmup),
                   absl::ToDoubleSeconds(config.duration), message_bytes,
                   JsonString(config.listing_id), config.tls.enabled() ? "true" : "false",
                   server_json, AvailableCpus())
            << std::endl;
  return 0;
}

}  // namespace intake::bench
