// The one place where absl::Status becomes grpc::Status, and where field violations become a
// google.rpc.BadRequest.
#ifndef INTAKE_SERVER_API_STATUS_H_
#define INTAKE_SERVER_API_STATUS_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"
#include "server/domain/field_violation.h"

namespace intake::api {

// kInvalidArgument carrying `violations` as a google.rpc.BadRequest payload. Its message
// names the bad fields, never their values.
absl::Status BadRequest(const FieldViolations& violations);

// kResourceExhausted from a rate limit, carrying a google.rpc.RetryInfo that says to retry
// after `retry_after`.
absl::Status RateLimited(absl::Duration retry_after);

// The same code (Abseil's codes are gRPC's numbers) and message; a BadRequest or RetryInfo
// payload travels as google.rpc.Status details (`grpc-status-details-bin`), which standard
// clients decode.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_STATUS_H_
