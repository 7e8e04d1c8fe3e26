#include "client/bench/spawned_intaked.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace intake::bench {
namespace {

// How often start-up and exit are polled: intaked announces neither any other way.
constexpr absl::Duration kPollInterval = absl::Milliseconds(10);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A string field of the flat JSON object intaked writes as its ports file; empty if absent.
// The values are host:port strings, which need no unescaping.
std::string JsonStringField(const std::string& json, const std::string& key) {
  const std::string quoted_key = absl::StrCat("\"", key, "\"");
  const size_t key_at = json.find(quoted_key);
  if (key_at == std::string::npos) return "";
  const size_t colon = json.find(':', key_at + quoted_key.size());
  if (colon == std::string::npos) return "";
  const size_t open = json.find('"', colon);
  if (open == std::string::npos) return "";
  const size_t close = json.find('"', open + 1);
  if (close == std::string::npos) return "";
  return json.substr(open + 1, close - open - 1);
}

// Reaps `pid` if it has exited: its exit status (128 + signal number if a signal ended it),
// or nullopt while it runs.
std::optional<int> TryReap(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) != pid) return std::nullopt;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// Forks and execs `argv` with stdout on /dev/null and stderr into `stderr_path`. Between fork
// and exec only async-signal-safe calls, as gRPC may already have threads.
pid_t Spawn(std::vector<std::string> args, const std::string& stderr_path) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;
  // A benchmark killed by Ctrl-C must not leave a server behind.
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent) _exit(126);
  const int null_fd = open("/dev/null", O_WRONLY);
  const int err_fd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (null_fd < 0 || err_fd < 0 || dup2(null_fd, STDOUT_FILENO) < 0 ||
      dup2(err_fd, STDERR_FILENO) < 0) {
    _exit(126);
  }
  execv(argv[0], argv.data());
  _exit(127);
}

}  // namespace

std::string IntakedNextToThisBinary() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "intaked";
  return (self.parent_path() / "intaked").string();
}

absl::StatusOr<std::unique_ptr<SpawnedIntaked>> SpawnedIntaked::Start(
    const std::string& binary, const std::vector<std::string>& extra_args, absl::Duration timeout,
    const std::string& data_dir_parent) {
  if (access(binary.c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat(binary, " is not an executable file (build intaked, or pass --intaked)"));
  }
  std::error_code error;
  const std::filesystem::path parent = data_dir_parent.empty()
                                           ? std::filesystem::temp_directory_path(error)
                                           : std::filesystem::path(data_dir_parent);
  std::string pattern = (parent / "intake-bench.XXXXXX").string();
  if (error || mkdtemp(pattern.data()) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create a data directory in ", parent.string()));
  }
  std::unique_ptr<SpawnedIntaked> intaked(new SpawnedIntaked());
  intaked->data_dir_ = pattern;
  intaked->admin_token_path_ = intaked->data_dir_ + "/admin.token";
  const std::string ports_file = intaked->data_dir_ + "/ports.json";
  std::vector<std::string> args = {binary, "--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
                                   "--data_dir=" + intaked->data_dir_,
                                   "--ports_file=" + ports_file};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  intaked->pid_ = Spawn(std::move(args), intaked->data_dir_ + "/intaked.stderr");
  if (intaked->pid_ < 0) return absl::UnavailableError(absl::StrCat("cannot fork ", binary));

  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    // intaked writes the file whole and renames it into place, so a file that exists is
    // complete.
    const std::string ports = ReadFile(ports_file);
    intaked->listen_address_ = JsonStringField(ports, "listen");
    intaked->admin_address_ = JsonStringField(ports, "admin_listen");
    if (!intaked->listen_address_.empty()) return intaked;
    if (const std::optional<int> exit_status = TryReap(intaked->pid_)) {
      intaked->pid_ = -1;
      return absl::UnavailableError(absl::StrCat(binary, " exited with status ", *exit_status,
                                                 " during start-up:\n", intaked->Stderr()));
    }
    if (absl::Now() > deadline) {
      return absl::UnavailableError(absl::StrCat(binary, " wrote no ports file within ",
                                                 absl::FormatDuration(timeout), ":\n",
                                                 intaked->Stderr()));
    }
    absl::SleepFor(kPollInterval);
  }
}

SpawnedIntaked::~SpawnedIntaked() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  RemoveDataDir();
}

absl::Status SpawnedIntaked::Stop(absl::Duration timeout) {
  if (pid_ <= 0) return absl::OkStatus();
  kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + timeout;
  std::optional<int> exit_status;
  while (!(exit_status = TryReap(pid_)) && absl::Now() < deadline) absl::SleepFor(kPollInterval);
  absl::Status result = absl::OkStatus();
  if (!exit_status) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    result = absl::InternalError(absl::StrCat("intaked did not exit within ",
                                              absl::FormatDuration(timeout),
                                              " of SIGTERM; killed:\n", Stderr()));
  } else if (*exit_status != 0) {
    result = absl::InternalError(
        absl::StrCat("intaked exited with status ", *exit_status, ":\n", Stderr()));
  }
  pid_ = -1;
  RemoveDataDir();
  return result;
}

std::string SpawnedIntaked::Stderr() const { return ReadFile(data_dir_ + "/intaked.stderr"); }

void SpawnedIntaked::RemoveDataDir() {
  if (data_dir_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(data_dir_, ignored);
  data_dir_.clear();
}

}  // namespace intake::bench
