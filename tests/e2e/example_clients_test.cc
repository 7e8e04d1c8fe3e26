// The example provider clients (examples/README.md), run verbatim as a provider would run them,
// against a real intaked that is drained and restarted, then killed and restarted, while the
// client follows; then the client itself is stopped and started again. Every lead must be
// acknowledged exactly once: none missed, none handled twice.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/e2e/shell_blocks.h"
#include "tests/testing/text_file.h"

extern char** environ;

namespace intake::testing {
namespace {

constexpr absl::Duration kSetupTimeout = absl::Minutes(5);
constexpr absl::Duration kLeadTimeout = absl::Seconds(60);
constexpr absl::Duration kPollInterval = absl::Milliseconds(50);

// A shell script running in the background as in a terminal of its own: `bash -c` in `dir`
// with its output in files. It runs under `timeout`, which also passes on the SIGTERM it gets
// if this test dies (PR_SET_PDEATHSIG) to every process of the script, so none outlives it.
class ScriptProcess {
 public:
  ScriptProcess(const std::string& dir, const std::string& script,
                const std::vector<std::string>& env, const std::string& output_prefix,
                absl::Duration limit = absl::Minutes(10))
      : stdout_path_(output_prefix + ".out"), stderr_path_(output_prefix + ".err") {
    std::vector<std::string> args = {"timeout", absl::StrCat(absl::ToInt64Seconds(limit)), "bash",
                                     "-c", script};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // This process's environment with `env` set over it.
    std::map<std::string, std::string> merged;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry = *e;
      merged[entry.substr(0, entry.find('='))] = entry;
    }
    for (const std::string& entry : env) merged[entry.substr(0, entry.find('='))] = entry;
    std::vector<char*> envp;
    envp.reserve(merged.size() + 1);
    for (auto& [name, entry] : merged) envp.push_back(entry.data());
    envp.push_back(nullptr);
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {  // Only async-signal-safe calls until exec.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(127);
      const int out = open(stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      const int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || chdir(dir.c_str()) != 0) {
        _exit(127);
      }
      execvpe("timeout", argv.data(), envp.data());
      _exit(127);
    }
    if (pid_ < 0) ADD_FAILURE() << "fork: " << strerror(errno);
  }

  ~ScriptProcess() { Stop(); }
  ScriptProcess(const ScriptProcess&) = delete;
  ScriptProcess& operator=(const ScriptProcess&) = delete;

  // Whether it is still running (false once it ended by itself).
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
    pid_ = -1;
    exit_status_ = status;
    return false;
  }

  // Waits up to `timeout` for the script to end by itself; true if it ended with exit code 0.
  bool Wait(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (Running() && absl::Now() < deadline) absl::SleepFor(kPollInterval);
    if (Running()) return false;
    return WIFEXITED(exit_status_) && WEXITSTATUS(exit_status_) == 0;
  }

  // SIGTERM to the script (timeout passes it on), then waits for it to end.
  void Stop() {
    if (!Running()) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, &exit_status_, 0);
    pid_ = -1;
  }

  std::string Stdout() const { return ReadTextFile(stdout_path_); }
  std::string Output() const {
    return absl::StrCat(Stdout(), "--- stderr ---\n", ReadTextFile(stderr_path_));
  }

 private:
  const std::string stdout_path_;
  const std::string stderr_path_;
  pid_t pid_ = -1;
  int exit_status_ = 0;
};

// How a provider runs one example: the examples/README.md section with its commands, and the
// files and folders of the repository those commands use.
struct ExampleClient {
  std::string name;
  std::string heading;
  std::vector<std::string> repository_paths;
};

std::ostream& operator<<(std::ostream& out, const ExampleClient& c) { return out << c.name; }

// "acknowledged lead <id> (sequence <n>)" lines: how often each lead id was acknowledged.
void CountAcknowledged(const std::string& output, std::map<std::string, int>* counts) {
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    if (!absl::ConsumePrefix(&line, "acknowledged lead ")) continue;
    ++(*counts)[std::string(line.substr(0, line.find(' ')))];
  }
}

class ExampleClientTest : public ::testing::TestWithParam<ExampleClient> {
 protected:
  void SetUp() override {
    // The example's own files are copied, so that what the commands make beside them (code,
    // bundles, links) stays in dir_; the folders it uses are linked.
    for (const std::string& path : GetParam().repository_paths) {
      const std::filesystem::path source = std::filesystem::path(INTAKE_SOURCE_DIR) / path;
      const std::filesystem::path copy = std::filesystem::path(dir_.path()) / path;
      std::filesystem::create_directories(copy.parent_path());
      if (std::filesystem::is_directory(source)) {
        std::filesystem::create_directory_symlink(source, copy);
      } else {
        std::filesystem::copy_file(source, copy);
      }
    }
    StartServer({});
    ASSERT_NE(server_, nullptr);
    token_ = server_->AdminToken();
    // A provider for every general-helpline lead, and its token where the README expects it.
    auto admin = v1::AdminService::NewStub(server_->AdminChannel());
    v1::CreateProviderRequest provider;
    provider.set_provider_id("sunrise");
    provider.set_display_name("Sunrise Recovery");
    v1::CreateProviderResponse created;
    ASSERT_TRUE(admin->CreateProvider(Context(token_).get(), provider, &created).ok());
    v1::IssueProviderTokenRequest issue;
    issue.set_provider_id("sunrise");
    v1::IssueProviderTokenResponse issued;
    ASSERT_TRUE(admin->IssueProviderToken(Context(token_).get(), issue, &issued).ok());
    std::ofstream(dir_.File("sunrise.token")) << issued.token() << "\n";
  }

  // Starts intaked on `data` (ports 0 at first; after a restart the same ports, as a real
  // restart keeps its address). Idle streams get a heartbeat every second, so that clients
  // see some.
  void StartServer(const std::vector<std::string>& ports) {
    std::vector<std::string> args = {"--heartbeat_interval=1s"};
    args.insert(args.end(), ports.begin(), ports.end());
    server_ = IntakedProcess::Start(args, dir_.File("var"));
  }

  void RestartServer(int signal) {
    const std::vector<std::string> ports = {"--listen=" + server_->listen_address(),
                                            "--admin_listen=" + server_->admin_address()};
    server_->Stop(signal);
    StartServer(ports);
  }

  std::vector<std::string> Env() const {
    return {absl::StrCat("INTAKE_PUBLIC_ADDR=", server_->listen_address()),
            absl::StrCat("INTAKE_ADDR=", server_->admin_address()),
            // Debian's python3, the one python3-grpcio is for, whatever else is on PATH.
            absl::StrCat("PATH=", std::filesystem::path(PYTHON3_PATH).parent_path().string(), ":",
                         getenv("PATH"))};
  }

  // Submits a general-helpline lead from a caller of its own.
  void SubmitLead() {
    v1::SubmitCallbackRequest request;
    request.mutable_caller()->set_phone(absl::StrCat("(305) 736-", 5100 + submitted_++));
    request.mutable_caller()->set_region("FL");
    request.mutable_consent()->set_granted(true);
    request.mutable_consent()->set_text("I agree to be called back about treatment options.");
    v1::SubmitCallbackResponse response;
    const grpc::Status status = v1::IntakeService::NewStub(server_->PublicChannel())
                                    ->SubmitCallback(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // Runs the set-up blocks of the example's README section, as written, and gives the
  // client's command (the section's last block).
  void SetUpClient(std::string* client_script) {
    const std::vector<ShellBlock> blocks = SectionShellBlocks(
        ReadTextFile(std::string(INTAKE_SOURCE_DIR) + "/examples/README.md"), GetParam().heading);
    ASSERT_FALSE(blocks.empty()) << "examples/README.md lost its section " << GetParam().heading;
    ASSERT_EQ(blocks.back().marker, "client") << "the section's last block runs the client";
    for (size_t i = 0; i + 1 < blocks.size(); ++i) {
      if (blocks[i].marker == "build") {
        // What the build has done already (a dependency of this test), linked into dir_.
        EXPECT_EQ(blocks[i].script, "make web-generate\n");
        continue;
      }
      ASSERT_EQ(blocks[i].marker, "") << blocks[i].script;
      ScriptProcess setup(dir_.path(), "set -euo pipefail\n" + blocks[i].script, Env(),
                          dir_.File(absl::StrCat("setup", i)));
      ASSERT_TRUE(setup.Wait(kSetupTimeout)) << blocks[i].script << setup.Output();
    }
    *client_script = blocks.back().script;
  }

  // Waits until the clients have acknowledged `count` leads in all (each client's output is
  // in `clients`), failing with their output if they do not in time or one of them ended.
  void WaitForAcknowledged(const std::vector<ScriptProcess*>& clients, int count) {
    const absl::Time deadline = absl::Now() + kLeadTimeout;
    while (true) {
      std::map<std::string, int> counts;
      std::string outputs;
      for (ScriptProcess* c : clients) {
        CountAcknowledged(c->Stdout(), &counts);
        absl::StrAppend(&outputs, c->Output());
      }
      if (static_cast<int>(counts.size()) >= count) return;
      ASSERT_TRUE(clients.back()->Running()) << "the client ended:\n" << outputs;
      ASSERT_LT(absl::Now(), deadline)
          << counts.size() << " of " << count << " leads acknowledged:\n"
          << outputs << "--- intaked ---\n"
          << server_->Stderr();
      absl::SleepFor(kPollInterval);
    }
  }

  TempDir dir_;
  std::unique_ptr<IntakedProcess> server_;
  std::string token_;
  int submitted_ = 0;
};

TEST_P(ExampleClientTest, AcknowledgesEveryLeadExactlyOnceAcrossRestarts) {
  std::string client_script;
  ASSERT_NO_FATAL_FAILURE(SetUpClient(&client_script));
  constexpr int kLeadsPerStep = 3;

  auto first =
      std::make_unique<ScriptProcess>(dir_.path(), client_script, Env(), dir_.File("client1"));
  for (int i = 0; i < kLeadsPerStep; ++i) SubmitLead();
  WaitForAcknowledged({first.get()}, submitted_);

  // intaked drains (the stream ends UNAVAILABLE), then is killed outright; leads come in
  // as soon as it is back, whether or not the client has reconnected yet.
  for (int signal : {SIGTERM, SIGKILL}) {
    RestartServer(signal);
    ASSERT_NE(server_, nullptr);
    for (int i = 0; i < kLeadsPerStep; ++i) SubmitLead();
    WaitForAcknowledged({first.get()}, submitted_);
  }

  // The client stops; leads arrive meanwhile; it starts again from its cursor file.
  first->Stop();
  for (int i = 0; i < kLeadsPerStep; ++i) SubmitLead();
  ScriptProcess second(dir_.path(), client_script, Env(), dir_.File("client2"));
  WaitForAcknowledged({first.get(), &second}, submitted_);
  second.Stop();

  std::map<std::string, int> acknowledged;
  CountAcknowledged(first->Stdout(), &acknowledged);
  CountAcknowledged(second.Stdout(), &acknowledged);
  for (const auto& [lead_id, times] : acknowledged) {
    EXPECT_EQ(times, 1) << lead_id << " was handled " << times << " times";
  }
  // And intaked agrees: every lead there is, acknowledged.
  v1::AdminServiceListLeadsRequest list;
  list.set_page_size(1000);
  v1::AdminServiceListLeadsResponse leads;
  ASSERT_TRUE(v1::AdminService::NewStub(server_->AdminChannel())
                  ->ListLeads(Context(token_).get(), list, &leads)
                  .ok());
  ASSERT_EQ(leads.leads_size(), submitted_);
  for (const v1::Lead& lead : leads.leads()) {
    EXPECT_EQ(acknowledged.count(lead.lead_id()), 1u) << lead.lead_id() << " was missed";
    EXPECT_EQ(lead.state(), v1::LEAD_STATE_ACKNOWLEDGED) << lead.lead_id();
  }
}

// A connection that dies without a word (here: intaked frozen, its kernel still holding the
// connection open) is noticed by the client's keepalive within its ping interval and timeout
// (20 s + 10 s), and the client resumes once the server answers again.
TEST_P(ExampleClientTest, NoticesAFrozenServerAndResumes) {
  std::string client_script;
  ASSERT_NO_FATAL_FAILURE(SetUpClient(&client_script));
  ScriptProcess client(dir_.path(), client_script, Env(), dir_.File("client"));
  SubmitLead();
  WaitForAcknowledged({&client}, submitted_);

  ASSERT_EQ(kill(server_->pid(), SIGSTOP), 0);
  const absl::Time deadline = absl::Now() + absl::Seconds(90);
  while (!absl::StrContains(client.Output(), "resuming after sequence") && absl::Now() < deadline &&
         client.Running()) {
    absl::SleepFor(kPollInterval);
  }
  ASSERT_EQ(kill(server_->pid(), SIGCONT), 0);
  ASSERT_TRUE(absl::StrContains(client.Output(), "resuming after sequence"))
      << client.Output() << "the client never noticed that intaked stopped answering";
  SubmitLead();
  WaitForAcknowledged({&client}, submitted_);
}

std::vector<ExampleClient> ExampleClients() {
  std::vector<ExampleClient> clients = {
      {"Python", "## Python", {"proto", "examples/python/provider_client.py"}}};
#ifdef INTAKE_WEB_BUILT  // client/web's generated code and packages are there.
  clients.push_back(
      {"Node",
       "## Node",
       {"client/web/gen", "client/web/node_modules", "examples/node/provider_client.ts"}});
#endif
  return clients;
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleClientTest, ::testing::ValuesIn(ExampleClients()),
                         [](const ::testing::TestParamInfo<ExampleClient>& example) {
                           return example.param.name;
                         });

}  // namespace
}  // namespace intake::testing
