#include "tests/e2e/intaked_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

extern char** environ;

namespace intake::testing {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(10);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Spawns intaked with stdout and stderr going to files.
pid_t Spawn(const std::vector<std::string>& args, const std::vector<std::string>& env,
            const std::string& stdout_path, const std::string& stderr_path) {
  std::vector<char*> argv;
  std::string binary = INTAKED_PATH;
  argv.push_back(binary.data());
  std::vector<std::string> copies = args;
  for (std::string& a : copies) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_copies = env;
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (std::string& e : env_copies) envp.push_back(e.data());
  envp.push_back(nullptr);

  // fork/exec rather than posix_spawn, for PR_SET_PDEATHSIG: a test process that dies (an
  // abort, a ctest timeout) takes its intaked with it instead of leaving it running. Only
  // async-signal-safe calls between fork and exec.
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // The parent died before prctl.
    const int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  if (pid < 0) {
    ADD_FAILURE() << "cannot start " << binary << ": " << strerror(errno);
    return -1;
  }
  return pid;
}

// Waits for `pid` to end, up to `timeout`; kills it if it does not.
std::optional<int> WaitForExit(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
    if (r < 0) return std::nullopt;
    if (absl::Now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return std::nullopt;
    }
    absl::SleepFor(kPollInterval);
  }
}

// Reads a string field of the flat JSON object intaked writes as its ports file.
std::string JsonField(const std::string& json, const std::string& key) {
  const std::string quoted_key = absl::StrCat("\"", key, "\"");
  size_t at = json.find(quoted_key);
  if (at == std::string::npos) return "";
  at = json.find('"', json.find(':', at + quoted_key.size()));
  const size_t end = json.find('"', at + 1);
  if (at == std::string::npos || end == std::string::npos) return "";
  return json.substr(at + 1, end - at - 1);
}

bool IsServing(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&context, request, &response).ok() &&
         response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

}  // namespace

ExitResult RunIntaked(const std::vector<std::string>& args, const std::vector<std::string>& env,
                      absl::Duration timeout) {
  TempDir scratch;
  const pid_t pid = Spawn(args, env, scratch.File("stdout"), scratch.File("stderr"));
  ExitResult result;
  if (pid < 0) return result;
  result.exit_code = WaitForExit(pid, timeout);
  result.stdout_text = ReadFile(scratch.File("stdout"));
  result.stderr_text = ReadFile(scratch.File("stderr"));
  return result;
}

std::unique_ptr<IntakedProcess> IntakedProcess::Start(std::vector<std::string> extra_args,
                                                      std::string data_dir,
                                                      ListenerCredentials credentials) {
  std::unique_ptr<IntakedProcess> p(new IntakedProcess());
  for (auto* c : {&credentials.public_listener, &credentials.admin_listener}) {
    if (*c == nullptr) *c = grpc::InsecureChannelCredentials();
  }
  p->credentials_ = std::move(credentials);
  p->scratch_ = std::make_unique<TempDir>();
  p->data_dir_ = data_dir.empty() ? p->scratch_->File("var") : std::move(data_dir);
  const std::string ports_file = p->scratch_->File("ports.json");
  // A short grace: with gRPC 1.51 a drain waits out the grace while clients keep idle
  // connections open, and tests keep theirs. No per-client rate limit: every test's calls come
  // from 127.0.0.1 (the tests of the limit set --client_rate).
  std::vector<std::string> args = {"--listen=127.0.0.1:0",
                                   "--admin_listen=127.0.0.1:0",
                                   "--data_dir=" + p->data_dir_,
                                   "--ports_file=" + ports_file,
                                   "--shutdown_grace=2s",
                                   "--metrics_listen=127.0.0.1:0",
                                   "--client_rate=0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  p->pid_ = Spawn(args, {}, p->scratch_->File("stdout"), p->scratch_->File("stderr"));
  if (p->pid_ < 0) return nullptr;

  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (p->listen_address_.empty()) {
    const std::string ports = ReadFile(ports_file);
    p->listen_address_ = JsonField(ports, "listen");
    p->admin_address_ = JsonField(ports, "admin_listen");
    p->metrics_address_ = JsonField(ports, "metrics_listen");
    p->health_address_ = JsonField(ports, "health_listen");
    if (!p->listen_address_.empty()) break;
    int status = 0;
    if (waitpid(p->pid_, &status, WNOHANG) == p->pid_) {
      p->pid_ = -1;
      ADD_FAILURE() << "intaked exited during start-up:\n" << p->Stderr();
      return nullptr;
    }
    if (absl::Now() > deadline) {
      ADD_FAILURE() << "intaked wrote no ports file within 30 s:\n" << p->Stderr();
      return nullptr;
    }
    absl::SleepFor(kPollInterval);
  }
  for (const auto& channel : {p->PublicChannel(), p->AdminChannel()}) {
    while (!IsServing(channel)) {
      if (absl::Now() > deadline) {
        ADD_FAILURE() << "intaked is not SERVING within 30 s:\n" << p->Stderr();
        return nullptr;
      }
      absl::SleepFor(kPollInterval);
    }
  }
  return p;
}

IntakedProcess::~IntakedProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::shared_ptr<grpc::Channel> IntakedProcess::PublicChannel() const {
  return grpc::CreateChannel(listen_address_, credentials_.public_listener);
}

std::shared_ptr<grpc::Channel> IntakedProcess::AdminChannel() const {
  return grpc::CreateChannel(admin_address_, credentials_.admin_listener);
}

std::string IntakedProcess::AdminToken() const {
  std::string token = ReadFile(data_dir_ + "/admin.token");
  while (!token.empty() && token.back() == '\n') token.pop_back();
  return token;
}

ExitResult IntakedProcess::Stop(int signal, absl::Duration timeout) {
  ExitResult result;
  if (pid_ > 0) {
    kill(pid_, signal);
    result.exit_code = WaitForExit(pid_, timeout);
    pid_ = -1;
  }
  result.stdout_text = ReadFile(scratch_->File("stdout"));
  result.stderr_text = Stderr();
  return result;
}

std::string IntakedProcess::Stderr() const { return ReadFile(scratch_->File("stderr")); }

}  // namespace intake::testing
