#include "client/intakectl/rpc_error.h"

#include <array>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "client/intakectl/exit_codes.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace intake::ctl {

std::string StatusCodeName(grpc::StatusCode code) {
  static constexpr std::array<const char*, 17> kNames = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  const int index = static_cast<int>(code);
  if (index < 0 || index >= static_cast<int>(kNames.size())) return absl::StrCat("CODE_", index);
  return kNames[index];
}

std::vector<std::string> FieldViolations(const grpc::Status& status) {
  std::vector<std::string> lines;
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    return lines;
  }
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::BadRequest bad_request;
    if (!any.UnpackTo(&bad_request)) continue;
    for (const auto& violation : bad_request.field_violations()) {
      lines.push_back(absl::StrCat(violation.field(), ": ", violation.description()));
    }
  }
  return lines;
}

int ReportRpcError(const grpc::Status& status, absl::string_view address) {
  const int exit_code = ExitCodeFor(status.error_code());
  std::cerr << "intakectl: " << address << ": " << StatusCodeName(status.error_code()) << ": "
            << status.error_message() << "\n";
  for (const std::string& line : FieldViolations(status)) std::cerr << "  " << line << "\n";
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      std::cerr << "  (is intaked running there? --addr, $INTAKE_ADDR and --timeout set where "
                   "and how long to try)\n";
      break;
    case grpc::StatusCode::UNAUTHENTICATED:
      std::cerr << "  (the token from --token_file or $INTAKE_TOKEN is not one this server "
                   "knows, or was revoked)\n";
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      std::cerr << "  (" << address
                << " does not serve that call: the wrong listener for --addr, or an intaked "
                   "that predates it?)\n";
      break;
    default:
      break;
  }
  return exit_code;
}

}  // namespace intake::ctl
