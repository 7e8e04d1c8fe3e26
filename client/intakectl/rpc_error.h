// How a failed call is reported: one line with the status on stderr, then each field
// violation of its google.rpc.BadRequest on its own line.
#ifndef INTAKE_CLIENT_INTAKECTL_RPC_ERROR_H_
#define INTAKE_CLIENT_INTAKECTL_RPC_ERROR_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace intake::ctl {

// "NOT_FOUND" for grpc::StatusCode::NOT_FOUND.
std::string StatusCodeName(grpc::StatusCode code);

// The field violations `status` carries, as "field: description" lines; empty if it carries
// no google.rpc.BadRequest.
std::vector<std::string> FieldViolations(const grpc::Status& status);

// Prints `status` on stderr as
//   intakectl: <address>: INVALID_ARGUMENT: <message>
//     <field>: <description>
// with a hint for the failures people meet first (unreachable, bad token), and returns its
// exit code (ExitCodeFor).
int ReportRpcError(const grpc::Status& status, absl::string_view address);

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_RPC_ERROR_H_
