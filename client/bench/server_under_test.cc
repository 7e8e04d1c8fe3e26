#include "client/bench/server_under_test.h"

#include <iostream>

#include "absl/status/status.h"

namespace intake::bench {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(30);
// intaked's own default drain grace is 10 s; this leaves it room.
constexpr absl::Duration kStopTimeout = absl::Seconds(30);

}  // namespace

absl::StatusOr<std::unique_ptr<ServerUnderTest>> ServerUnderTest::Acquire(
    const BenchConfig& config) {
  std::unique_ptr<ServerUnderTest> server(new ServerUnderTest());
  if (!config.target.empty()) {
    server->address_ = config.target;
    server->admin_address_ = config.admin_target;
    server->admin_token_file_ = config.admin_token_file;
    return server;
  }
  absl::StatusOr<std::unique_ptr<SpawnedIntaked>> spawned =
      SpawnedIntaked::Start(config.intaked, kStartTimeout);
  if (!spawned.ok()) return spawned.status();
  server->spawned_ = *std::move(spawned);
  server->address_ = server->spawned_->listen_address();
  server->admin_address_ = server->spawned_->admin_address();
  server->admin_token_file_ = server->spawned_->admin_token_path();
  return server;
}

ServerUnderTest::~ServerUnderTest() { Release(); }

void ServerUnderTest::Release() {
  if (spawned_ == nullptr) return;
  if (absl::Status s = spawned_->Stop(kStopTimeout); !s.ok()) {
    std::cerr << "intake-bench: " << s.message() << "\n";
  }
  spawned_.reset();
}

}  // namespace intake::bench
