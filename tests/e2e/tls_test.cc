// TLS and mTLS on intaked's listeners, with throwaway CAs made by openssl: who gets in, who is
// refused, certificates renewed on disk without a restart, and half configurations refused
// at start-up.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/grpc.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "gtest/gtest.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_pki.h"

namespace intake::testing {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// TLS client credentials trusting `ca`, presenting `client` if it has a certificate.
std::shared_ptr<grpc::ChannelCredentials> TlsCredentials(const std::string& ca,
                                                         const CertFiles& client = {}) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadTextFile(ca);
  if (!client.cert.empty()) {
    options.pem_cert_chain = ReadTextFile(client.cert);
    options.pem_private_key = ReadTextFile(client.key);
  }
  return grpc::SslCredentials(options);
}

// A channel with a connection of its own (never one pooled with an earlier channel's).
std::shared_ptr<grpc::Channel> NewChannel(const std::string& address,
                                          const std::shared_ptr<grpc::ChannelCredentials>& creds) {
  static int next_id = 0;
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_CHANNEL_ID, ++next_id);
  return grpc::CreateCustomChannel(address, creds, args);
}

// A health check; its status code, and the common name of the server's certificate in *cn.
grpc::StatusCode Check(const std::shared_ptr<grpc::Channel>& channel, std::string* cn = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  HealthCheckRequest request;
  HealthCheckResponse response;
  const grpc::Status status = Health::NewStub(channel)->Check(&context, request, &response);
  if (cn != nullptr && status.ok()) {
    const std::vector<grpc::string_ref> names =
        context.auth_context()->FindPropertyValues("x509_common_name");
    *cn = names.empty() ? "" : std::string(names.front().data(), names.front().size());
  }
  return status.error_code();
}

class TlsTest : public ::testing::Test {
 protected:
  TlsTest()
      : ca_(dir_.path(), "intake-test-ca"),
        other_ca_(dir_.path(), "other-ca"),
        server_cert_(ca_.IssueServer("server-1")),
        ops_cert_(ca_.IssueClient("ops")),
        stranger_cert_(other_ca_.IssueClient("stranger")) {}

  std::vector<std::string> TlsArgs() const {
    return {"--tls_cert=" + server_cert_.cert, "--tls_key=" + server_cert_.key};
  }

  TempDir dir_;
  TestCa ca_;
  TestCa other_ca_;
  CertFiles server_cert_;
  CertFiles ops_cert_;
  CertFiles stranger_cert_;
};

TEST_F(TlsTest, BothListenersServeTlsToClientsThatTrustTheCaAndRefusePlaintext) {
  const auto tls = TlsCredentials(ca_.cert());
  auto server = IntakedProcess::Start(TlsArgs(), "", {tls, tls});
  ASSERT_NE(server, nullptr);
  for (const std::string& address : {server->listen_address(), server->admin_address()}) {
    std::string cn;
    EXPECT_EQ(Check(NewChannel(address, tls), &cn), grpc::StatusCode::OK) << address;
    EXPECT_EQ(cn, "server-1");
    EXPECT_EQ(Check(NewChannel(address, grpc::InsecureChannelCredentials())),
              grpc::StatusCode::UNAVAILABLE)
        << address << " answered a plaintext client";
    EXPECT_EQ(Check(NewChannel(address, TlsCredentials(other_ca_.cert()))),
              grpc::StatusCode::UNAVAILABLE)
        << address << ": a client trusting another CA accepted the server";
  }
}

// Kubernetes' gRPC probes speak no TLS: --health_listen answers them in plaintext, health
// only, with the public listener's statuses, NOT_SERVING from the start of a drain.
TEST_F(TlsTest, TheHealthListenerAnswersPlaintextProbesAndNothingElse) {
  std::vector<std::string> args = TlsArgs();
  args.push_back("--tls_client_ca_public=" + ca_.cert());  // Not even mTLS stops a probe.
  args.push_back("--health_listen=127.0.0.1:0");
  const auto tls = TlsCredentials(ca_.cert());
  auto server = IntakedProcess::Start(args, "", {TlsCredentials(ca_.cert(), ops_cert_), tls});
  ASSERT_NE(server, nullptr);
  ASSERT_FALSE(server->health_address().empty()) << "no health_listen in the ports file";
  const auto probe = NewChannel(server->health_address(), grpc::InsecureChannelCredentials());
  EXPECT_EQ(Check(probe), grpc::StatusCode::OK);
  const auto check = [&](const std::string& service, HealthCheckResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    HealthCheckRequest request;
    request.set_service(service);
    return Health::NewStub(probe)->Check(&context, request, response).error_code();
  };
  HealthCheckResponse response;
  ASSERT_EQ(check("intake.v1.IntakeService", &response), grpc::StatusCode::OK);
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  EXPECT_EQ(check("intake.v1.AdminService", &response), grpc::StatusCode::NOT_FOUND)
      << "health of the admin listener's own service";

  // Health and nothing else: not one RPC of Intake's.
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::SubmitCallbackResponse submitted;
  EXPECT_EQ(v1::IntakeService::NewStub(probe)
                ->SubmitCallback(&context, ValidRequest(), &submitted)
                .error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  // A probe watching sees the drain begin.
  grpc::ClientContext watching;
  watching.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto watch = Health::NewStub(probe)->Watch(&watching, HealthCheckRequest());
  ASSERT_TRUE(watch->Read(&response));
  ASSERT_EQ(response.status(), HealthCheckResponse::SERVING);
  std::future<ExitResult> stopped =
      std::async(std::launch::async, [&server] { return server->Stop(SIGTERM); });
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  watching.TryCancel();
  EXPECT_EQ(stopped.get().exit_code, 0);
}

TEST_F(TlsTest, ClientCaOnTheAdminListenerRequiresACertificateFromThatCa) {
  std::vector<std::string> args = TlsArgs();
  args.push_back("--tls_client_ca=" + ca_.cert());
  const auto tls = TlsCredentials(ca_.cert());
  const auto ops = TlsCredentials(ca_.cert(), ops_cert_);
  auto server = IntakedProcess::Start(args, "", {tls, ops});
  ASSERT_NE(server, nullptr);
  const std::string admin = server->admin_address();
  EXPECT_EQ(Check(NewChannel(admin, ops)), grpc::StatusCode::OK);
  EXPECT_EQ(Check(NewChannel(admin, tls)), grpc::StatusCode::UNAVAILABLE)
      << "a client without a certificate got in";
  EXPECT_EQ(Check(NewChannel(admin, TlsCredentials(ca_.cert(), stranger_cert_))),
            grpc::StatusCode::UNAVAILABLE)
      << "a certificate from another CA got in";
  // The public listener asks for none.
  EXPECT_EQ(Check(NewChannel(server->listen_address(), tls)), grpc::StatusCode::OK);
}

TEST_F(TlsTest, ClientCaOnThePublicListenerRequiresACertificateFromThatCa) {
  std::vector<std::string> args = TlsArgs();
  const CertFiles gateway = ca_.IssueClient("gateway");
  args.push_back("--tls_client_ca_public=" + ca_.cert());
  const auto tls = TlsCredentials(ca_.cert());
  const auto with_cert = TlsCredentials(ca_.cert(), gateway);
  auto server = IntakedProcess::Start(args, "", {with_cert, tls});
  ASSERT_NE(server, nullptr);
  const std::string address = server->listen_address();
  EXPECT_EQ(Check(NewChannel(address, with_cert)), grpc::StatusCode::OK);
  EXPECT_EQ(Check(NewChannel(address, tls)), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Check(NewChannel(address, TlsCredentials(ca_.cert(), stranger_cert_))),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Check(NewChannel(server->admin_address(), tls)), grpc::StatusCode::OK);
}

TEST_F(TlsTest, ACertificateReplacedOnDiskIsServedToNewConnectionsWithoutARestart) {
  // Files of their own, replaced by rename as certbot and cert-manager do.
  const std::string cert = dir_.File("live.pem");
  const std::string key = dir_.File("live.key");
  std::filesystem::copy_file(server_cert_.cert, cert);
  std::filesystem::copy_file(server_cert_.key, key);
  const auto tls = TlsCredentials(ca_.cert());
  auto server = IntakedProcess::Start(
      {"--tls_cert=" + cert, "--tls_key=" + key, "--tls_reload_interval=1s"}, "", {tls, tls});
  ASSERT_NE(server, nullptr);
  const std::shared_ptr<grpc::Channel> before = NewChannel(server->listen_address(), tls);
  std::string cn;
  ASSERT_EQ(Check(before, &cn), grpc::StatusCode::OK);
  ASSERT_EQ(cn, "server-1");

  const CertFiles renewed = ca_.IssueServer("server-2");
  std::filesystem::copy_file(renewed.key, key + ".new");
  std::filesystem::copy_file(renewed.cert, cert + ".new");
  std::filesystem::rename(key + ".new", key);
  std::filesystem::rename(cert + ".new", cert);

  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (cn != "server-2" && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
    ASSERT_EQ(Check(NewChannel(server->listen_address(), tls), &cn), grpc::StatusCode::OK);
  }
  EXPECT_EQ(cn, "server-2") << "the renewed certificate was not served within 30 s";
  // The connection made before the renewal goes on.
  EXPECT_EQ(Check(before), grpc::StatusCode::OK);
  EXPECT_EQ(server->Stop(SIGTERM).exit_code, 0);
}

class TlsStartupTest : public TlsTest {
 protected:
  // intaked with `tls_args` must exit 1 with exactly one stderr line containing `expected`.
  void ExpectRefused(const std::vector<std::string>& tls_args, const std::string& expected) {
    std::vector<std::string> args = {"--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
                                     "--data_dir=" + dir_.File("var")};
    args.insert(args.end(), tls_args.begin(), tls_args.end());
    const ExitResult result = RunIntaked(args);
    EXPECT_EQ(result.exit_code, 1) << result.stderr_text;
    EXPECT_EQ(std::count(result.stderr_text.begin(), result.stderr_text.end(), '\n'), 1)
        << result.stderr_text;
    EXPECT_TRUE(absl::StrContains(result.stderr_text, expected))
        << "want '" << expected << "' in: " << result.stderr_text;
  }
};

TEST_F(TlsStartupTest, HalfAConfigurationIsAOneLineStartupError) {
  ExpectRefused({"--tls_cert=" + server_cert_.cert}, "--tls_cert needs --tls_key");
  ExpectRefused({"--tls_key=" + server_cert_.key}, "--tls_key needs --tls_cert");
  ExpectRefused({"--tls_client_ca=" + ca_.cert()}, "need --tls_cert and --tls_key");
  ExpectRefused({"--tls_client_ca_public=" + ca_.cert()}, "need --tls_cert and --tls_key");
}

TEST_F(TlsStartupTest, UnreadableOrMismatchedFilesAreAOneLineStartupError) {
  const std::string missing = dir_.File("missing.pem");
  ExpectRefused({"--tls_cert=" + missing, "--tls_key=" + server_cert_.key},
                "--tls_cert=" + missing + ": cannot be read");
  ExpectRefused({"--tls_cert=" + server_cert_.cert, "--tls_key=" + missing},
                "--tls_key=" + missing + ": cannot be read");
  // A key that is not the certificate's.
  ExpectRefused({"--tls_cert=" + server_cert_.cert, "--tls_key=" + ops_cert_.key},
                "is not the key of the certificate");
  // Files that hold something else.
  ExpectRefused({"--tls_cert=" + server_cert_.key, "--tls_key=" + server_cert_.key},
                "holds no PEM certificate");
  ExpectRefused({"--tls_cert=" + server_cert_.cert, "--tls_key=" + server_cert_.cert},
                "holds no PEM private key");
  std::vector<std::string> args = TlsArgs();
  args.push_back("--tls_client_ca=" + server_cert_.key);
  ExpectRefused(args, "--tls_client_ca=" + server_cert_.key + ": holds no PEM certificate");
  args = TlsArgs();
  args.push_back("--tls_reload_interval=0s");
  ExpectRefused(args, "--tls_reload_interval must be at least 1s");
}

TEST_F(TlsStartupTest, NoFileContentsAppearInTheError) {
  const ExitResult result = RunIntaked(
      {"--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0", "--data_dir=" + dir_.File("var"),
       "--tls_cert=" + server_cert_.cert, "--tls_key=" + ops_cert_.key});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_FALSE(absl::StrContains(result.stderr_text, "BEGIN")) << result.stderr_text;
}

}  // namespace
}  // namespace intake::testing
