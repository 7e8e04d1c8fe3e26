// Where a command connects and with which credentials: the channel (plain or TLS), the bearer
// token, and a per-call deadline.
#ifndef INTAKE_CLIENT_INTAKECTL_CONNECTION_H_
#define INTAKE_CLIENT_INTAKECTL_CONNECTION_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "client/intakectl/command.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace intake::ctl {

// The listener a command talks to when --addr is not given.
enum class Listener {
  // AdminService: $INTAKE_ADDR, else 127.0.0.1:50052.
  kAdmin,
  // IntakeService and ProviderService: $INTAKE_PUBLIC_ADDR, else 127.0.0.1:50051.
  kPublic,
};

// The bearer token a command sends.
enum class Credential {
  kNone,
  // --token_file, else $INTAKE_TOKEN, else ./var/admin.token if it exists (a server running
  // from this directory). Required.
  kAdminToken,
  // --token_file, else $INTAKE_TOKEN. Required.
  kProviderToken,
  // --token_file only (an intake key, needed when intaked has --intake_keys_file); the admin
  // token is never sent to the public listener.
  kIntakeKey,
};

class Connection {
 public:
  // Resolves the address and token and creates the channel (which connects lazily). Returns
  // nullopt after printing a usage error when a file named by a flag cannot be read or a
  // required token is missing.
  static std::optional<Connection> Open(const GlobalOptions& options, Listener listener,
                                        Credential credential);

  const std::string& address() const { return address_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  absl::Duration timeout() const { return timeout_; }

  // A context for a unary call: the bearer token and a deadline of --timeout from now.
  std::unique_ptr<grpc::ClientContext> CallContext() const;
  // A context for an endless stream: the bearer token, no deadline.
  std::unique_ptr<grpc::ClientContext> StreamContext() const;

 private:
  Connection() = default;

  std::string address_;
  std::string token_;
  absl::Duration timeout_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_CONNECTION_H_
