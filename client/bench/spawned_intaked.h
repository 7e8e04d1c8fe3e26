// The real server under test, run as a child process the way an operator would run it: both
// listeners on 127.0.0.1 port 0, a fresh data directory, and the bound addresses read back
// from the ports file intaked writes once it is serving.
#ifndef INTAKE_CLIENT_BENCH_SPAWNED_INTAKED_H_
#define INTAKE_CLIENT_BENCH_SPAWNED_INTAKED_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace intake::bench {

// The path of `intaked` next to the running binary (found through /proc/self/exe), which is
// where the build puts both; "intaked" if that cannot be read.
std::string IntakedNextToThisBinary();

class SpawnedIntaked {
 public:
  // Creates a data directory with mkdtemp in `data_dir_parent` (empty: the system's temporary
  // directory), starts `binary` on it with `extra_args` after the
  // listener, data and ports flags (stdout discarded, stderr kept in the data directory) and
  // waits up to `timeout` for its ports file. The child gets
  // SIGTERM if this process dies first. Errors: kNotFound when `binary` is not executable;
  // kUnavailable when intaked exits during start-up or writes no ports file in time (the
  // message ends with its stderr); kFailedPrecondition when no directory can be made in
  // `data_dir_parent` (naming it).
  static absl::StatusOr<std::unique_ptr<SpawnedIntaked>> Start(
      const std::string& binary, const std::vector<std::string>& extra_args, absl::Duration timeout,
      const std::string& data_dir_parent = "");

  // Stops intaked if still running (SIGKILL, no grace) and removes the data directory.
  ~SpawnedIntaked();
  SpawnedIntaked(const SpawnedIntaked&) = delete;
  SpawnedIntaked& operator=(const SpawnedIntaked&) = delete;

  // Sends SIGTERM, waits up to `timeout` for intaked to exit (then SIGKILLs it) and removes
  // the data directory. OK when it exited with status 0; otherwise kInternal, with its stderr
  // in the message. Call at most once.
  absl::Status Stop(absl::Duration timeout);

  // host:port of the public listener (IntakeService) and of the admin listener.
  const std::string& listen_address() const { return listen_address_; }
  const std::string& admin_address() const { return admin_address_; }
  // The admin token intaked generated on start-up: <data_dir>/admin.token. Gone after Stop().
  const std::string& admin_token_path() const { return admin_token_path_; }
  // The data directory intaked keeps its database in. Gone after Stop().
  const std::string& data_dir() const { return data_dir_; }
  // The process id while it runs (for reading /proc); -1 after Stop().
  pid_t pid() const { return pid_; }

 private:
  SpawnedIntaked() = default;

  // What intaked has written to stderr so far.
  std::string Stderr() const;
  void RemoveDataDir();

  std::string data_dir_;
  std::string listen_address_;
  std::string admin_address_;
  std::string admin_token_path_;
  pid_t pid_ = -1;
};

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_SPAWNED_INTAKED_H_
