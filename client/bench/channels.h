// Client channels for load: one TCP connection each, so calls spread over them the way many
// independent frontends would reach the server, instead of sharing gRPC's one pooled connection.
#ifndef INTAKE_CLIENT_BENCH_CHANNELS_H_
#define INTAKE_CLIENT_BENCH_CHANNELS_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/bench/bench_config.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"

namespace intake::bench {

// How long a benchmark waits for its channels to connect before it gives up.
inline constexpr absl::Duration kConnectTimeout = absl::Seconds(30);

// TLS credentials trusting tls.ca_pem when TLS is on; plaintext otherwise.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(const BenchTls& tls);

// `count` channels to `address` (TLS as `tls` says), each with its own subchannel pool and a
// distinct channel id, so none shares another's connection. They connect lazily. `address`
// may list several servers separated by commas (replicas of one fleet): channel i goes to the
// (i mod n)-th, so the first channel always goes to the first.
std::vector<std::shared_ptr<grpc::Channel>> OpenChannels(const std::string& address, int count,
                                                         const BenchTls& tls);

// Connects every channel and waits until each is READY. False if one is not by `deadline`.
bool WaitUntilConnected(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                        absl::Time deadline);

// The deadline, in the form grpc::ClientContext::set_deadline takes, of a call started now
// that may take `timeout`.
std::chrono::system_clock::time_point DeadlineIn(absl::Duration timeout);

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_CHANNELS_H_
