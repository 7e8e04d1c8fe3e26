#include "client/bench/server_under_test.h"

#include <iostream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/bench/report.h"

namespace intake::bench {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(30);
// intaked's own default drain grace is 10 s; this leaves it room.
constexpr absl::Duration kStopTimeout = absl::Seconds(30);

// The spawned intaked's flags beyond its listeners and data directory.
std::vector<std::string> SpawnArgs(const BenchConfig& config) {
  // Metrics as a production server has them, on a port no other run holds; no per-client rate
  // limit, since every call of the load comes from this one client.
  std::vector<std::string> args = {"--metrics_listen=127.0.0.1:0", "--client_rate=0"};
  if (config.tls.enabled()) {
    args.push_back("--tls_cert=" + config.tls.cert_path);
    args.push_back("--tls_key=" + config.tls.key_path);
  }
  args.insert(args.end(), config.intaked_args.begin(), config.intaked_args.end());
  return args;
}

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
  absl::StatusOr<std::unique_ptr<SpawnedIntaked>> spawned = SpawnedIntaked::Start(
      config.intaked, SpawnArgs(config), kStartTimeout, config.data_dir_parent);
  if (!spawned.ok()) return spawned.status();
  server->spawned_ = *std::move(spawned);
  server->address_ = server->spawned_->listen_address();
  server->admin_address_ = server->spawned_->admin_address();
  server->admin_token_file_ = server->spawned_->admin_token_path();
  return server;
}

ServerUnderTest::~ServerUnderTest() { Release(); }

std::string ServerUnderTest::Json() const {
  return absl::StrCat(R"({"address": )", JsonString(address_), R"(, "spawned": )",
                      spawned() ? "true" : "false", R"(, "data_dir_fs": )",
                      spawned() ? JsonString(FileSystemName(data_dir())) : "null", "}");
}

void ServerUnderTest::Release() {
  if (spawned_ == nullptr) return;
  if (absl::Status s = spawned_->Stop(kStopTimeout); !s.ok()) {
    std::cerr << "intake-bench: " << s.message() << "\n";
  }
  spawned_.reset();
}

}  // namespace intake::bench
