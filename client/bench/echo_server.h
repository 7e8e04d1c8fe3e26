// The baseline the performance budget is read against: a bare gRPC server in this process that
// answers every call with the request's own bytes. It uses the callback API and gRPC's own
// callback threads and does no work of its own, so it costs what gRPC costs per call.
#ifndef INTAKE_CLIENT_BENCH_ECHO_SERVER_H_
#define INTAKE_CLIENT_BENCH_ECHO_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/bench/bench_config.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/server.h"

namespace intake::bench {

class EchoServer {
 public:
  // The method clients call. The server answers any method; this one just names itself.
  static constexpr char kMethod[] = "/intake.bench.v1.Echo/Echo";

  // Starts serving on 127.0.0.1 with a port the kernel picks, with TLS when `tls` is on.
  // Returns kUnavailable if it cannot listen.
  static absl::StatusOr<std::unique_ptr<EchoServer>> Start(const BenchTls& tls);

  // Shuts down, cancelling calls still in flight, and waits for the server to stop.
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  // "127.0.0.1:<port>".
  const std::string& address() const { return address_; }

 private:
  EchoServer() = default;

  std::unique_ptr<grpc::CallbackGenericService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_ECHO_SERVER_H_
