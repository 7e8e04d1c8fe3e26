// A real Prometheus (Debian's `prometheus`, started here as a plain process on loopback with a
// temporary configuration and data directory) scrapes a running intaked; its HTTP API then
// shows the target up and SubmitCallback's calls counted by status code.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/testing/http_get.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_pki.h"

namespace intake::testing {
namespace {

constexpr char kPrometheus[] = "/usr/bin/prometheus";

// A port that was free a moment ago. Prometheus cannot report one it picked itself.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                     getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  EXPECT_TRUE(bound) << "cannot find a free port";
  return ntohs(address.sin_port);
}

// Prometheus as a child process, killed with this test if it dies.
class PrometheusProcess {
 public:
  PrometheusProcess(const TempDir& dir, const std::string& target) {
    address_ = absl::StrCat("127.0.0.1:", FreePort());
    {
      std::ofstream config(dir.File("prometheus.yml"));
      config << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
             << "scrape_configs:\n  - job_name: intake\n    static_configs:\n"
             << "      - targets: ['" << target << "']\n";
    }
    std::vector<std::string> args = {kPrometheus, "--config.file=" + dir.File("prometheus.yml"),
                                     "--storage.tsdb.path=" + dir.File("tsdb"),
                                     "--web.listen-address=" + address_, "--log.level=warn"};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    log_ = dir.File("prometheus.log");
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      const int out = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (out < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(127);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~PrometheusProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  // The value of the single sample `query` returns now, as Prometheus writes it ("1"); empty
  // if it returns none (or Prometheus does not answer yet).
  std::string Query(const std::string& query) const {
    absl::StatusOr<std::string> body = HttpGet(address_, "/api/v1/query?query=" + UrlEncode(query));
    google::protobuf::Struct json;
    if (!body.ok() || !google::protobuf::util::JsonStringToMessage(*body, &json).ok()) return "";
    const auto& result = json.fields().at("data").struct_value().fields().at("result");
    if (result.list_value().values_size() != 1) return "";
    const auto& value = result.list_value().values(0).struct_value().fields().at("value");
    return value.list_value().values(1).string_value();
  }

  // Waits up to `timeout` for `query` to return `want`; the last value seen otherwise.
  std::string WaitFor(const std::string& query, const std::string& want,
                      absl::Duration timeout = absl::Seconds(60)) const {
    const absl::Time deadline = absl::Now() + timeout;
    std::string value;
    while ((value = Query(query)) != want && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(250));
    }
    return value;
  }

  std::string Log() const { return ReadTextFile(log_); }

 private:
  std::string address_;
  std::string log_;
  pid_t pid_ = -1;
};

TEST(PrometheusTest, ARealPrometheusScrapesIntakedAndSeesTheCallsByCode) {
  ASSERT_EQ(access(kPrometheus, X_OK), 0) << kPrometheus << " is missing (deploy/install-deps.sh)";
  auto server = IntakedProcess::Start();
  ASSERT_NE(server, nullptr);
  auto intake = v1::IntakeService::NewStub(server->PublicChannel());
  v1::SubmitCallbackResponse response;
  ASSERT_TRUE(
      intake->SubmitCallback(Context().get(), ValidRequest("(212) 736-5001"), &response).ok());
  ASSERT_TRUE(
      intake->SubmitCallback(Context().get(), ValidRequest("(212) 736-5002"), &response).ok());
  ASSERT_EQ(intake->SubmitCallback(Context().get(), ValidRequest("12"), &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  TempDir dir;
  PrometheusProcess prometheus(dir, server->metrics_address());
  // Its first scrape comes a few seconds after it starts.
  EXPECT_EQ(prometheus.WaitFor(R"(up{job="intake"})", "1"), "1") << prometheus.Log();
  EXPECT_EQ(prometheus.WaitFor(R"(grpc_server_handled_total{job="intake",)"
                               R"(grpc_method="SubmitCallback",grpc_code="OK"})",
                               "2"),
            "2")
      << prometheus.Log();
  EXPECT_EQ(prometheus.Query(R"(grpc_server_handled_total{job="intake",)"
                             R"(grpc_method="SubmitCallback",grpc_code="InvalidArgument"})"),
            "1");
  EXPECT_EQ(prometheus.Query(R"(sum(intake_submissions_total{outcome="lead"}))"), "2");
}

}  // namespace
}  // namespace intake::testing
