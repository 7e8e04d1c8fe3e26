// The Intake server a benchmark mode measures: intaked spawned for the run (the default), or
// one already running at --target.
#ifndef INTAKE_CLIENT_BENCH_SERVER_UNDER_TEST_H_
#define INTAKE_CLIENT_BENCH_SERVER_UNDER_TEST_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/bench/bench_config.h"
#include "client/bench/spawned_intaked.h"

namespace intake::bench {

class ServerUnderTest {
 public:
  // With config.target set, only records it (and config.admin_target and
  // config.admin_token_file). Otherwise spawns config.intaked with a fresh data directory (in
  // config.data_dir_parent),
  // TLS as config.tls says and config.intaked_args, and waits up to 30 s for its ports file.
  // Errors are SpawnedIntaked::Start's.
  static absl::StatusOr<std::unique_ptr<ServerUnderTest>> Acquire(const BenchConfig& config);

  // Same as Release().
  ~ServerUnderTest();
  ServerUnderTest(const ServerUnderTest&) = delete;
  ServerUnderTest& operator=(const ServerUnderTest&) = delete;

  // Stops a spawned intaked (SIGTERM, waits up to 30 s for it to exit, removes its data
  // directory) and reports on stderr if it did not exit cleanly; a --target server is left
  // alone. Repeating it does nothing.
  void Release();

  // host:port of the public and admin listeners; admin_address() is empty for a --target
  // server given without --admin_target.
  const std::string& address() const { return address_; }
  const std::string& admin_address() const { return admin_address_; }
  // The file holding the admin listener's bearer token: the spawned intaked's own, else
  // --admin_token_file (possibly empty). Only valid until Release().
  const std::string& admin_token_file() const { return admin_token_file_; }
  // The spawned intaked's data directory, where its database lives; empty for a --target
  // server. Only valid until Release().
  std::string data_dir() const { return spawned_ != nullptr ? spawned_->data_dir() : ""; }
  // Whether this run started the server.
  bool spawned() const { return spawned_ != nullptr; }
  // The "server" object of the report: {"address": .., "spawned": .., "data_dir_fs": the file
  // system of the spawned intaked's data directory (FileSystemName), null for a --target
  // server}. Call before Release().
  std::string Json() const;

 private:
  ServerUnderTest() = default;

  std::unique_ptr<SpawnedIntaked> spawned_;
  std::string address_;
  std::string admin_address_;
  std::string admin_token_file_;
};

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_SERVER_UNDER_TEST_H_
