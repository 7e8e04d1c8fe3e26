#include "client/bench/echo_phase.h"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "client/bench/channels.h"
#include "client/bench/echo_server.h"
#include "client/bench/first_error_log.h"
#include "client/bench/report.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/byte_buffer.h"

namespace intake::bench {
namespace {

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

}  // namespace

absl::StatusOr<LoadResult> RunEchoPhase(const BenchConfig& config, const LoadOptions& load,
                                        const SyntheticSubmissions& submissions) {
  absl::StatusOr<std::unique_ptr<EchoServer>> server = EchoServer::Start(config.tls);
  if (!server.ok()) return server.status();
  const std::vector<std::shared_ptr<grpc::Channel>> channels =
      OpenChannels((*server)->address(), config.channels, config.tls);
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

}  // namespace intake::bench
