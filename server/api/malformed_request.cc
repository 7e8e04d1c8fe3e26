#include "server/api/malformed_request.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/support/interceptor.h"
#include "grpcpp/support/status.h"

namespace intake::api {
namespace {

using grpc::experimental::InterceptionHookPoints;

// "/intake.v1.IntakeService/SubmitCallback" -> "intake.v1.SubmitCallbackRequest"; empty if the
// method is not in the generated pool.
std::string RequestTypeOf(absl::string_view method) {
  const std::string full_name = absl::StrReplaceAll(absl::StripPrefix(method, "/"), {{"/", "."}});
  const google::protobuf::MethodDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full_name);
  return descriptor == nullptr ? "" : descriptor->input_type()->full_name();
}

// Both hook points of one call run in order (the status is sent after the message was
// received), never at the same time, so `malformed_` needs no lock.
class MalformedRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit MalformedRequestInterceptor(const char* method) : method_(method) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    // The handler left the message unset: it did not parse (or none came), and gRPC skips
    // the method and finishes the call with UNIMPLEMENTED.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      malformed_ = true;
    }
    if (malformed_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      const std::string type = RequestTypeOf(method_);
      methods->ModifySendStatus(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          type.empty() ? "the request message is missing or does not parse"
                       : absl::StrCat("the request is not a valid ", type, " message")));
    }
    methods->Proceed();
  }

 private:
  const char* const method_;  // Owned by the server, which outlives its calls.
  bool malformed_ = false;
};

}  // namespace

grpc::experimental::Interceptor* MalformedRequestInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  using Type = grpc::experimental::ServerRpcInfo::Type;
  // Only these methods have their one request message parsed before the handler runs.
  if (info->type() != Type::UNARY && info->type() != Type::SERVER_STREAMING) return nullptr;
  return new MalformedRequestInterceptor(info->method());
}

}  // namespace intake::api
