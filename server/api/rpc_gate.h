// The single path every unary RPC takes: authenticate first, then run the handler where it
// may block, then convert its status in one place and finish the call.
#ifndef INTAKE_SERVER_API_RPC_GATE_H_
#define INTAKE_SERVER_API_RPC_GATE_H_

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "server/api/access_log.h"
#include "server/api/auth.h"
#include "server/api/blocking_executor.h"
#include "server/api/status.h"

namespace intake::api {

class RpcGate {
 public:
  // Both must outlive the gate.
  RpcGate(Authenticator* auth, BlockingExecutor* executor) : auth_(auth), executor_(executor) {}

  // Authenticates `context` for `access` on the calling (gRPC) thread, which costs no I/O;
  // a refused call finishes at once and `handler` never runs. Otherwise `handler(principal)`
  // runs on the blocking executor and its status finishes the call. The handler may use the
  // request and response: gRPC keeps them alive until the call finishes.
  template <typename Handler>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, Access access,
                                  Handler handler) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    std::optional<Principal> principal = Admit(context, access, reactor);
    if (!principal) return reactor;
    executor_->Run(
        [reactor, handler = std::move(handler), principal = *std::move(principal)]() mutable {
          reactor->Finish(ToGrpcStatus(handler(principal)));
        });
    return reactor;
  }

  // For handlers that never block and finish `reactor` themselves (the intake path):
  // authenticates `context` for `access`; on refusal finishes `reactor` and returns nullopt.
  std::optional<Principal> Admit(grpc::CallbackServerContext* context, Access access,
                                 grpc::ServerUnaryReactor* reactor) {
    absl::StatusOr<Principal> principal = Authenticate(context, access);
    if (principal.ok()) return *std::move(principal);
    reactor->Finish(ToGrpcStatus(principal.status()));
    return std::nullopt;
  }

  // Authenticates `context` for `access` (Authenticator::Authenticate) and notes the principal
  // on the call for its access-log line; for streams, which finish themselves.
  absl::StatusOr<Principal> Authenticate(grpc::CallbackServerContext* context, Access access) {
    absl::StatusOr<Principal> principal = auth_->Authenticate(*context, access);
    if (principal.ok()) NotePrincipal(context, *principal);
    return principal;
  }

  Authenticator& auth() { return *auth_; }

 private:
  Authenticator* const auth_;
  BlockingExecutor* const executor_;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_RPC_GATE_H_
