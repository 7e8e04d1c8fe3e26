#include "client/bench/channels.h"

#include <string>

#include "absl/strings/str_split.h"
#include "grpc/grpc.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace intake::bench {

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentialsFor(const BenchTls& tls) {
  if (!tls.enabled()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls.ca_pem;
  return grpc::SslCredentials(options);
}

std::vector<std::shared_ptr<grpc::Channel>> OpenChannels(const std::string& address, int count,
                                                         const BenchTls& tls) {
  const std::shared_ptr<grpc::ChannelCredentials> credentials = ChannelCredentialsFor(tls);
  std::vector<std::string> addresses = absl::StrSplit(address, ',', absl::SkipEmpty());
  if (addresses.empty()) addresses.push_back(address);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  channels.reserve(count);
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments args;
    // Channels with equal arguments would share one subchannel, hence one connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_CHANNEL_ID, i);
    channels.push_back(
        grpc::CreateCustomChannel(addresses[i % addresses.size()], credentials, args));
  }
  return channels;
}

bool WaitUntilConnected(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                        absl::Time deadline) {
  for (const auto& channel : channels) {
    if (!channel->WaitForConnected(absl::ToChronoTime(deadline))) return false;
  }
  return true;
}

std::chrono::system_clock::time_point DeadlineIn(absl::Duration timeout) {
  return absl::ToChronoTime(absl::Now() + timeout);
}

}  // namespace intake::bench
