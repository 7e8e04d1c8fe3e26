// The end-to-end fixture: the real intaked binary on port 0 with a temporary data directory,
// and channels to both of its listeners.
#ifndef INTAKE_TESTS_E2E_INTAKED_PROCESS_H_
#define INTAKE_TESTS_E2E_INTAKED_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/testing/temp_dir.h"

namespace intake::testing {

// What a finished intaked run left behind.
struct ExitResult {
  // The exit code, or 128 + signal number if a signal ended it; nullopt if it did not end in
  // time (it is then killed).
  std::optional<int> exit_code;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs intaked with `args` and `env` added to this process's environment to completion (at
// most `timeout`), for start-up and usage tests.
ExitResult RunIntaked(const std::vector<std::string>& args,
                      const std::vector<std::string>& env = {},
                      absl::Duration timeout = absl::Seconds(20));

// How the fixture's channels reach the two listeners; null means plaintext.
struct ListenerCredentials {
  std::shared_ptr<grpc::ChannelCredentials> public_listener;
  std::shared_ptr<grpc::ChannelCredentials> admin_listener;
};

class IntakedProcess {
 public:
  // Starts intaked with both listeners and the metrics endpoint on 127.0.0.1:0 (so tests
  // running in parallel never collide on its default port), no per-client rate limit
  // (--client_rate=0), `data_dir` (a fresh temporary one if empty) and `extra_args` (which may
  // override those), then waits until both listeners
  // report health SERVING through channels made with `credentials`. Returns nullptr, with a test
  // failure that shows intaked's stderr, if it does not get there.
  static std::unique_ptr<IntakedProcess> Start(std::vector<std::string> extra_args = {},
                                               std::string data_dir = "",
                                               ListenerCredentials credentials = {});

  // Kills the process if it is still running.
  ~IntakedProcess();
  IntakedProcess(const IntakedProcess&) = delete;
  IntakedProcess& operator=(const IntakedProcess&) = delete;

  const std::string& listen_address() const { return listen_address_; }
  const std::string& admin_address() const { return admin_address_; }
  // The metrics endpoint's host:port; empty with --metrics_listen= (off).
  const std::string& metrics_address() const { return metrics_address_; }
  // --health_listen's address; empty unless started with that flag.
  const std::string& health_address() const { return health_address_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }

  // New channels to the public and admin listeners, with the credentials given to Start.
  std::shared_ptr<grpc::Channel> PublicChannel() const;
  std::shared_ptr<grpc::Channel> AdminChannel() const;

  // The admin token intaked wrote into its data directory.
  std::string AdminToken() const;

  // Sends `signal` and waits up to `timeout` for the process to end.
  ExitResult Stop(int signal, absl::Duration timeout = absl::Seconds(30));

  // What intaked printed so far.
  std::string Stderr() const;

 private:
  IntakedProcess() = default;

  std::unique_ptr<TempDir> scratch_;  // stdout, stderr and ports files; data dir by default
  std::string data_dir_;
  std::string listen_address_;
  std::string admin_address_;
  std::string metrics_address_;
  std::string health_address_;
  ListenerCredentials credentials_;
  pid_t pid_ = -1;
};

}  // namespace intake::testing

#endif  // INTAKE_TESTS_E2E_INTAKED_PROCESS_H_
