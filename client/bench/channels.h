// Client channels for load: one TCP connection each, so calls spread over them the way many
// independent frontends would reach the server, instead of sharing gRPC's one pooled connection.
#ifndef INTAKE_CLIENT_BENCH_CHANNELS_H_
#define INTAKE_CLIENT_BENCH_CHANNELS_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace intake::bench {

// How long a benchmark waits for its channels to connect before it gives up.
inline constexpr absl::Duration kConnectTimeout = absl::Seconds(30);

// `count` insecure channels to `address`, each with its own subchannel pool and a distinct
// channel id, so none shares another's connection. They connect lazily.
std::vector<std::shared_ptr<grpc::Channel>> OpenChannels(const std::string& address, int count);

// Connects every channel and waits until each is READY. False if one is not by `deadline`.
bool WaitUntilConnected(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                        absl::Time deadline);

// The deadline, in the form grpc::ClientContext::set_deadline takes, of a call started now
// that may take `timeout`.
std::chrono::system_clock::time_point DeadlineIn(absl::Duration timeout);

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_CHANNELS_H_
