#include "server/api/status.h"

#include <iostream>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace intake::api {
namespace {

constexpr char kBadRequestUrl[] = "type.googleapis.com/google.rpc.BadRequest";
constexpr char kRetryInfoUrl[] = "type.googleapis.com/google.rpc.RetryInfo";

}  // namespace

absl::Status BadRequest(const FieldViolations& violations) {
  google::rpc::BadRequest details;
  for (const FieldViolation& v : violations) {
    google::rpc::BadRequest::FieldViolation* out = details.add_field_violations();
    out->set_field(v.field);
    out->set_description(v.description);
  }
  absl::Status status(
      absl::StatusCode::kInvalidArgument,
      absl::StrCat("invalid fields: ",
                   absl::StrJoin(violations, ", ", [](std::string* out, const FieldViolation& v) {
                     absl::StrAppend(out, v.field);
                   })));
  status.SetPayload(kBadRequestUrl, absl::Cord(details.SerializeAsString()));
  return status;
}

absl::Status RateLimited(absl::Duration retry_after) {
  google::rpc::RetryInfo retry;
  const int64_t nanos = absl::ToInt64Nanoseconds(retry_after);
  retry.mutable_retry_delay()->set_seconds(nanos / 1'000'000'000);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  absl::Status status(
      absl::StatusCode::kResourceExhausted,
      absl::StrCat("too many submissions from this client; retry in ",
                   absl::FormatDuration(absl::Ceil(retry_after, absl::Milliseconds(1)))));
  status.SetPayload(kRetryInfoUrl, absl::Cord(retry.SerializeAsString()));
  return status;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  if (absl::IsInternal(status) || absl::IsDataLoss(status)) {
    // Broken invariants are for ops, not clients: the detail (paths, SQLite's words; never a
    // caller's data) goes to the log, the client gets the code.
    std::cerr << "intaked: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
              << "\n";
    return grpc::Status(code, "internal error; the server logged the details");
  }
  const std::string message(status.message());
  google::rpc::Status details;
  for (const char* url : {kBadRequestUrl, kRetryInfoUrl}) {
    if (absl::optional<absl::Cord> payload = status.GetPayload(url)) {
      google::protobuf::Any* any = details.add_details();
      any->set_type_url(url);
      any->set_value(std::string(*payload));
    }
  }
  if (details.details().empty()) return grpc::Status(code, message);
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace intake::api
