// What a benchmark needs that only an operator can create, made through AdminService on the
// admin listener: a provider, a listing it owns, and a bearer token for its ProviderService
// calls.
#ifndef INTAKE_CLIENT_BENCH_ADMIN_SETUP_H_
#define INTAKE_CLIENT_BENCH_ADMIN_SETUP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace intake::bench {

// The provider the benchmark's leads go to, and how to act as it.
struct BenchProvider {
  std::string provider_id;
  // A listing owned by the provider: every submission to it is routed to the provider.
  std::string listing_id;
  // For `authorization: Bearer <token>` on ProviderService.
  std::string token;
};

// The admin token in the file at `path`, surrounding whitespace removed. kNotFound when the
// file cannot be read; kInvalidArgument when it holds no token.
absl::StatusOr<std::string> ReadAdminToken(const std::string& path);

// Creates provider "bench-provider" (ACTIVE, nationwide, no daily cap, always open) and
// listing "bench-listing" owned by it, then issues a token for the provider. Either may exist
// already (a rerun against a --target server) and is then used as it is. Blocking: each call
// is a synchronous RPC on `admin_channel` with `admin_token` and a deadline of `timeout`.
// Errors: the failing call's status code, with the RPC named in the message.
absl::StatusOr<BenchProvider> SetUpBenchProvider(
    const std::shared_ptr<grpc::Channel>& admin_channel, absl::string_view admin_token,
    absl::Duration timeout);

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_ADMIN_SETUP_H_
