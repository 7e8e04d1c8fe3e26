// Abuse limits on SubmitCallback: a token bucket per client and one for the whole server.
#ifndef INTAKE_SERVER_API_RATE_LIMITER_H_
#define INTAKE_SERVER_API_RATE_LIMITER_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/clock.h"

namespace intake::api {

// The client a rate limit applies to, from an address as gRPC reports a peer
// ("ipv4:203.0.113.7:51234", "ipv6:[2001:db8::1]:443") or as a gateway passes one on
// ("203.0.113.7", "2001:db8::1"): the IPv4 address, or the /64 network of an IPv6 address
// (one subscriber's allocation, so rotating through it does not escape the limit); an
// IPv4-mapped IPv6 address counts as its IPv4 address. Anything else is kept as it is, cut
// to 64 bytes (a Unix socket's peer, say).
std::string ClientKey(absl::string_view address);

class RateLimiter {
 public:
  struct Options {
    // Tokens per second each client gains, and the most it can hold (its burst). A client
    // starts full. 0: no per-client limit.
    double client_rate = 1;
    double client_burst = 10;
    // Tokens per second for all clients together; the bucket holds one second's worth (at
    // least 1). 0: no global limit.
    double global_rate = 0;
    // Clients remembered at most. Past it, clients whose buckets have refilled are forgotten
    // first (they lose nothing); a flood of distinct clients may make others forget their
    // history, which costs them at most a fresh burst.
    size_t max_clients = 100'000;
  };

  // `clock` must outlive the limiter.
  RateLimiter(const Options& options, const Clock* clock);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes a token from `client_key`'s bucket and one from the global bucket, or none if
  // either is empty. Returns nullopt when admitted, otherwise how long until a retry would
  // be (at least 1 ms). Never blocks on anything but short in-memory locks. Thread-safe.
  std::optional<absl::Duration> Acquire(const std::string& client_key);

  // Clients whose buckets are remembered now (at most about max_clients). Thread-safe.
  size_t remembered_clients() const;

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  // Clients are spread over shards so that concurrent submissions rarely share a lock.
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, Bucket> buckets ABSL_GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 16;

  // Refills `bucket` to `now`.
  static void Refill(Bucket& bucket, double rate, double burst, absl::Time now);
  // Time until `bucket` holds one token.
  static absl::Duration Wait(const Bucket& bucket, double rate);
  // Forgets refilled buckets of a shard over its share of max_clients, then, if still over,
  // any. Called with the shard's lock held.
  void Evict(Shard& shard, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const Options options_;
  const Clock& clock_;
  std::array<Shard, kShards> shards_;
  absl::Mutex global_mu_;
  Bucket global_ ABSL_GUARDED_BY(global_mu_);
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_RATE_LIMITER_H_
