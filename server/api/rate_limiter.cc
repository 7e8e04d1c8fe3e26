#include "server/api/rate_limiter.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace intake::api {
namespace {

constexpr size_t kMaxKeyBytes = 64;
constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// The address of a gRPC peer string without its scheme and port; `peer` itself otherwise.
absl::string_view HostOf(absl::string_view peer) {
  if (absl::ConsumePrefix(&peer, "ipv4:")) return peer.substr(0, peer.rfind(':'));
  if (absl::ConsumePrefix(&peer, "ipv6:")) {
    if (absl::ConsumePrefix(&peer, "[")) return peer.substr(0, peer.find(']'));
    return peer;
  }
  return peer;
}

}  // namespace

std::string ClientKey(absl::string_view address) {
  std::string host(HostOf(address).substr(0, kMaxKeyBytes));
  char text[INET6_ADDRSTRLEN] = {};
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return inet_ntop(AF_INET, &v4, text, sizeof text) != nullptr ? text : host;
  }
  // A zone ("fe80::1%eth0") says which interface, not which client.
  const std::string without_zone = host.substr(0, host.find('%'));
  unsigned char v6[16] = {};
  if (inet_pton(AF_INET6, without_zone.c_str(), v6) != 1) return host;
  if (std::memcmp(v6, kMappedPrefix, sizeof kMappedPrefix) == 0) {
    std::memcpy(&v4, v6 + 12, 4);
    return inet_ntop(AF_INET, &v4, text, sizeof text) != nullptr ? text : host;
  }
  std::memset(v6 + 8, 0, 8);
  if (inet_ntop(AF_INET6, v6, text, sizeof text) == nullptr) return host;
  return absl::StrCat(text, "/64");
}

RateLimiter::RateLimiter(const Options& options, const Clock* clock)
    : options_(options), clock_(*clock) {
  absl::MutexLock lock(&global_mu_);
  global_ = {std::max(1.0, options_.global_rate), clock_.Now()};
}

void RateLimiter::Refill(Bucket& bucket, double rate, double burst, absl::Time now) {
  if (now > bucket.updated) {
    bucket.tokens =
        std::min(burst, bucket.tokens + rate * absl::ToDoubleSeconds(now - bucket.updated));
  }
  bucket.updated = std::max(bucket.updated, now);
}

absl::Duration RateLimiter::Wait(const Bucket& bucket, double rate) {
  return std::max(absl::Milliseconds(1), absl::Seconds((1 - bucket.tokens) / rate));
}

void RateLimiter::Evict(Shard& shard, absl::Time now) {
  const size_t limit = std::max<size_t>(1, options_.max_clients / kShards);
  if (shard.buckets.size() < limit) return;
  // A refilled bucket is the same as no bucket.
  absl::erase_if(shard.buckets, [&](auto& entry) {
    Refill(entry.second, options_.client_rate, options_.client_burst, now);
    return entry.second.tokens >= options_.client_burst;
  });
  // Still full: a flood of distinct clients. Forget a tenth, whichever they are.
  for (auto it = shard.buckets.begin(); shard.buckets.size() > limit - limit / 10 - 1;) {
    shard.buckets.erase(it++);
  }
}

std::optional<absl::Duration> RateLimiter::Acquire(const std::string& client_key) {
  const absl::Time now = clock_.Now();
  Bucket* client = nullptr;
  Shard& shard = shards_[std::hash<std::string>()(client_key) % kShards];
  // Both locks are held together (always shard first, then global) so that a refusal by one
  // bucket takes nothing from the other.
  absl::MutexLock shard_lock(&shard.mu);
  if (options_.client_rate > 0) {
    auto it = shard.buckets.find(client_key);
    if (it == shard.buckets.end()) {
      Evict(shard, now);
      it = shard.buckets.emplace(client_key, Bucket{options_.client_burst, now}).first;
    }
    client = &it->second;
    Refill(*client, options_.client_rate, options_.client_burst, now);
    if (client->tokens < 1) return Wait(*client, options_.client_rate);
  }
  if (options_.global_rate > 0) {
    absl::MutexLock global_lock(&global_mu_);
    Refill(global_, options_.global_rate, std::max(1.0, options_.global_rate), now);
    if (global_.tokens < 1) return Wait(global_, options_.global_rate);
    global_.tokens -= 1;
  }
  if (client != nullptr) client->tokens -= 1;
  return std::nullopt;
}

size_t RateLimiter::remembered_clients() const {
  size_t count = 0;
  for (const Shard& shard : shards_) {
    absl::MutexLock lock(&shard.mu);
    count += shard.buckets.size();
  }
  return count;
}

}  // namespace intake::api
