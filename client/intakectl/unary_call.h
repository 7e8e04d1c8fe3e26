// The shape nearly every command has: open a connection, make one unary call with the
// --timeout deadline, report a failure, print the response as JSON or for people.
#ifndef INTAKE_CLIENT_INTAKECTL_UNARY_CALL_H_
#define INTAKE_CLIENT_INTAKECTL_UNARY_CALL_H_

#include <optional>

#include "client/intakectl/command.h"
#include "client/intakectl/connection.h"
#include "client/intakectl/exit_codes.h"
#include "client/intakectl/output.h"
#include "client/intakectl/rpc_error.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace intake::ctl {

// A generated blocking stub method, e.g. &v1::AdminService::Stub::GetProvider.
template <typename Stub, typename Request, typename Response>
using StubMethod = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Response*);

// Calls `method` over `connection` with a fresh context (token, deadline).
template <typename Stub, typename Request, typename Response>
grpc::Status CallUnary(const Connection& connection, StubMethod<Stub, Request, Response> method,
                       const Request& request, Response* response) {
  Stub stub(connection.channel());
  return (stub.*method)(connection.CallContext().get(), request, response);
}

// Connects to `listener` with `credential`, calls `method` and prints the response: as one JSON
// document with --output=json, else with `print_table(response)`. Returns the exit code.
template <typename Stub, typename Request, typename Response, typename PrintTable>
int RunUnary(const Invocation& run, Listener listener, Credential credential,
             StubMethod<Stub, Request, Response> method, const Request& request,
             PrintTable print_table) {
  const std::optional<Connection> connection = Connection::Open(run.global, listener, credential);
  if (!connection) return kExitUsage;
  Response response;
  const grpc::Status status = CallUnary(*connection, method, request, &response);
  if (!status.ok()) return ReportRpcError(status, connection->address());
  if (run.json()) {
    PrintJson(response);
  } else {
    print_table(response);
  }
  return kExitOk;
}

// RunUnary on the admin listener with the admin token.
template <typename Stub, typename Request, typename Response, typename PrintTable>
int RunAdmin(const Invocation& run, StubMethod<Stub, Request, Response> method,
             const Request& request, PrintTable print_table) {
  return RunUnary(run, Listener::kAdmin, Credential::kAdminToken, method, request, print_table);
}

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_UNARY_CALL_H_
