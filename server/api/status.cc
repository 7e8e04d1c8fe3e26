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
  absl::optional<absl::Cord> bad_request = status.GetPayload(kBadRequestUrl);
  if (!bad_request) return grpc::Status(code, message);
  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  google::protobuf::Any* any = details.add_details();
  any->set_type_url(kBadRequestUrl);
  any->set_value(std::string(*bad_request));
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace intake::api
