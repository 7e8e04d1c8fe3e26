// Gives a request message that does not parse the status it deserves. gRPC 1.51's callback
// handlers (grpcpp/impl/codegen/server_callback_handlers.h) answer such a call with
// UNIMPLEMENTED and no message, which tells a client that the method does not exist; the
// interceptor made here turns that answer into INVALID_ARGUMENT naming the expected message
// type.
#ifndef INTAKE_SERVER_API_MALFORMED_REQUEST_H_
#define INTAKE_SERVER_API_MALFORMED_REQUEST_H_

#include "grpcpp/support/server_interceptor.h"

namespace intake::api {

// One per server (ServerBuilder::experimental().SetInterceptorCreators). Intercepts the calls
// of methods that take one request message (unary and server-streaming); a call whose message
// parsed, or a method that takes a stream, is left alone. The status never echoes the bytes
// received. Thread-safe.
class MalformedRequestInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_MALFORMED_REQUEST_H_
