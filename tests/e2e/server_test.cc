// intaked as a client sees it: health, reflection, the API surface, drain and restart.
#include <signal.h>
#include <sys/stat.h>

#include <future>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "tests/e2e/intaked_process.h"

namespace intake::testing {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

std::unique_ptr<grpc::ClientContext> ContextWithDeadline(absl::Duration d = absl::Seconds(5)) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + d));
  return context;
}

HealthCheckResponse::ServingStatus CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                               const std::string& service, grpc::StatusCode* code) {
  auto context = ContextWithDeadline();
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  *code = Health::NewStub(channel)->Check(context.get(), request, &response).error_code();
  return response.status();
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = IntakedProcess::Start();
    ASSERT_NE(server_, nullptr);
  }
  std::unique_ptr<IntakedProcess> server_;
};

TEST_F(ServerTest, BothListenersReportHealthForTheServerAndEachService) {
  struct Case {
    std::shared_ptr<grpc::Channel> channel;
    std::string service;
  };
  const std::vector<Case> cases = {
      {server_->PublicChannel(), ""},
      {server_->PublicChannel(), "intake.v1.IntakeService"},
      {server_->PublicChannel(), "intake.v1.ProviderService"},
      {server_->AdminChannel(), ""},
      {server_->AdminChannel(), "intake.v1.AdminService"},
  };
  for (const Case& c : cases) {
    grpc::StatusCode code;
    EXPECT_EQ(CheckHealth(c.channel, c.service, &code), HealthCheckResponse::SERVING)
        << "service '" << c.service << "'";
    EXPECT_EQ(code, grpc::StatusCode::OK);
  }
  grpc::StatusCode code;
  CheckHealth(server_->PublicChannel(), "no.such.Service", &code);
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
}

std::set<std::string> ListServices(const std::shared_ptr<grpc::Channel>& channel,
                                   grpc::StatusCode* code) {
  using grpc::reflection::v1alpha::ServerReflection;
  using grpc::reflection::v1alpha::ServerReflectionRequest;
  using grpc::reflection::v1alpha::ServerReflectionResponse;
  auto context = ContextWithDeadline();
  auto stream = ServerReflection::NewStub(channel)->ServerReflectionInfo(context.get());
  ServerReflectionRequest request;
  request.set_list_services("");
  stream->Write(request);
  stream->WritesDone();
  std::set<std::string> names;
  ServerReflectionResponse response;
  while (stream->Read(&response)) {
    for (const auto& service : response.list_services_response().service()) {
      names.insert(service.name());
    }
  }
  *code = stream->Finish().error_code();
  return names;
}

TEST_F(ServerTest, AdminListenerServesReflectionOfTheWholeApi) {
  grpc::StatusCode code;
  const std::set<std::string> names = ListServices(server_->AdminChannel(), &code);
  EXPECT_EQ(code, grpc::StatusCode::OK);
  for (const char* name : {"intake.v1.IntakeService", "intake.v1.ProviderService",
                           "intake.v1.AdminService", "grpc.health.v1.Health"}) {
    EXPECT_EQ(names.count(name), 1u) << name;
  }
}

// Reflection describes every service it lists (gRPC's health service included, whose
// descriptor gRPC itself does not carry): what grpcurl describe and buf curl need.
TEST_F(ServerTest, AdminListenerReflectionDescribesEveryServiceItLists) {
  using grpc::reflection::v1alpha::ServerReflection;
  using grpc::reflection::v1alpha::ServerReflectionRequest;
  using grpc::reflection::v1alpha::ServerReflectionResponse;
  grpc::StatusCode code;
  const std::set<std::string> names = ListServices(server_->AdminChannel(), &code);
  ASSERT_EQ(code, grpc::StatusCode::OK);
  ASSERT_EQ(names.count("grpc.health.v1.Health"), 1u);

  auto context = ContextWithDeadline();
  auto stream =
      ServerReflection::NewStub(server_->AdminChannel())->ServerReflectionInfo(context.get());
  for (const std::string& name : names) {
    ServerReflectionRequest request;
    request.set_file_containing_symbol(name);
    ASSERT_TRUE(stream->Write(request));
    ServerReflectionResponse response;
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_FALSE(response.has_error_response())
        << name << ": " << response.error_response().error_message();
    // The file with the service comes with its imports (and, with gRPC 1.51, the files sent
    // earlier on the same stream).
    bool found = false;
    for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(bytes));
      for (const auto& service : file.service()) {
        found = found || absl::StrCat(file.package(), ".", service.name()) == name;
      }
    }
    EXPECT_TRUE(found) << name << " is not described";
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ServerTest, PublicListenerHasNoReflection) {
  grpc::StatusCode code;
  ListServices(server_->PublicChannel(), &code);
  EXPECT_EQ(code, grpc::StatusCode::UNIMPLEMENTED);
}

// Calls `method` with `bytes` as the request message through a generic stub.
grpc::Status CallWithBytes(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                           const std::string& bytes) {
  grpc::GenericStub stub(channel);
  auto context = ContextWithDeadline();
  grpc::Slice slice(bytes);  // An empty message is zero bytes, but a valid buffer has a slice.
  grpc::ByteBuffer request(&slice, 1), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(context.get(), method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

// Calls `method` with an empty request and returns the status code.
grpc::StatusCode CallEmpty(const std::shared_ptr<grpc::Channel>& channel,
                           const std::string& method) {
  return CallWithBytes(channel, method, "").error_code();
}

// Calls `method` and closes the request side without sending any message.
grpc::Status CallWithoutMessage(const std::shared_ptr<grpc::Channel>& channel,
                                const std::string& method) {
  grpc::GenericStub stub(channel);
  auto context = ContextWithDeadline();
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(context.get(), method, &cq);
  grpc::Status status;
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  EXPECT_TRUE(cq.Next(&tag, &ok) && ok);
  call->WritesDone(reinterpret_cast<void*>(2));
  EXPECT_TRUE(cq.Next(&tag, &ok));
  call->Finish(&status, reinterpret_cast<void*>(3));
  EXPECT_TRUE(cq.Next(&tag, &ok) && ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

std::vector<std::string> MethodsOf(const std::string& service_name) {
  // Touching one message of each service's file links its descriptor into the pool.
  for (const google::protobuf::Descriptor* d :
       {v1::SubmitCallbackRequest::descriptor(), v1::AcknowledgeLeadRequest::descriptor(),
        v1::CreateProviderRequest::descriptor()}) {
    EXPECT_NE(d, nullptr);
  }
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
  EXPECT_NE(service, nullptr) << service_name;
  std::vector<std::string> methods;
  if (service == nullptr) return methods;
  for (int i = 0; i < service->method_count(); ++i) {
    methods.push_back(absl::StrCat("/", service_name, "/", service->method(i)->name()));
  }
  return methods;
}

// What each RPC answers to an empty request without a token: the built ones refuse it
// (UNAUTHENTICATED), except IntakeService, which is open by default; the rest are not built.
grpc::StatusCode ExpectedForEmptyCall(const std::string& method) {
  static const auto* not_built = new std::set<std::string>{};
  if (not_built->count(method) > 0) return grpc::StatusCode::UNIMPLEMENTED;
  // An empty submission lacks every required field.
  if (method == "/intake.v1.IntakeService/SubmitCallback") {
    return grpc::StatusCode::INVALID_ARGUMENT;
  }
  if (method == "/intake.v1.IntakeService/GetResponseStats") return grpc::StatusCode::OK;
  return grpc::StatusCode::UNAUTHENTICATED;
}

TEST_F(ServerTest, BuiltRpcsRefuseCallsWithoutATokenAndTheRestAreUnimplemented) {
  struct Case {
    std::shared_ptr<grpc::Channel> channel;
    std::string service;
  };
  const std::vector<Case> cases = {
      {server_->PublicChannel(), v1::IntakeService::service_full_name()},
      {server_->PublicChannel(), v1::ProviderService::service_full_name()},
      {server_->AdminChannel(), v1::IntakeService::service_full_name()},
      {server_->AdminChannel(), v1::ProviderService::service_full_name()},
      {server_->AdminChannel(), v1::AdminService::service_full_name()},
  };
  for (const Case& c : cases) {
    const std::vector<std::string> methods = MethodsOf(c.service);
    EXPECT_FALSE(methods.empty());
    for (const std::string& method : methods) {
      EXPECT_EQ(CallEmpty(c.channel, method), ExpectedForEmptyCall(method)) << method;
    }
  }
}

// gRPC 1.51 would answer these with UNIMPLEMENTED and no message, as if the method did not
// exist (README, "The API at a glance"): unary and server-streaming methods alike, before any
// token is checked, and the status never echoes what was sent.
TEST_F(ServerTest, ARequestThatIsNotAValidMessageIsInvalidArgumentNamingItsType) {
  // Field 0 does not exist, and the bytes after it look like a phone number.
  const std::string garbage = std::string("\x00\x01", 2) + "(305) 736-5000";
  struct Case {
    std::shared_ptr<grpc::Channel> channel;
    std::string method;
    std::string type;
  };
  const std::vector<Case> cases = {
      {server_->PublicChannel(), "/intake.v1.IntakeService/SubmitCallback",
       "intake.v1.SubmitCallbackRequest"},
      {server_->PublicChannel(), "/intake.v1.ProviderService/SubscribeLeads",
       "intake.v1.SubscribeLeadsRequest"},
      {server_->PublicChannel(), "/intake.v1.ProviderService/AcknowledgeLead",
       "intake.v1.AcknowledgeLeadRequest"},
      {server_->AdminChannel(), "/intake.v1.AdminService/CreateProvider",
       "intake.v1.CreateProviderRequest"},
      {server_->AdminChannel(), "/intake.v1.AdminService/WatchLeads",
       "intake.v1.WatchLeadsRequest"},
  };
  for (const Case& c : cases) {
    const grpc::Status status = CallWithBytes(c.channel, c.method, garbage);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.method;
    EXPECT_EQ(status.error_message(),
              absl::StrCat("the request is not a valid ", c.type, " message"));
    const grpc::Status missing = CallWithoutMessage(c.channel, c.method);
    EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.method;
    EXPECT_EQ(missing.error_message(), status.error_message());
  }
  // Nothing was stored, and the server still serves.
  v1::AdminServiceListLeadsRequest list;
  v1::AdminServiceListLeadsResponse leads;
  auto context = ContextWithDeadline();
  context->AddMetadata("authorization", "Bearer " + server_->AdminToken());
  ASSERT_TRUE(v1::AdminService::NewStub(server_->AdminChannel())
                  ->ListLeads(context.get(), list, &leads)
                  .ok());
  EXPECT_EQ(leads.leads_size(), 0);
  v1::ListProvidersRequest list_providers;
  v1::ListProvidersResponse providers;
  context = ContextWithDeadline();
  context->AddMetadata("authorization", "Bearer " + server_->AdminToken());
  ASSERT_TRUE(v1::AdminService::NewStub(server_->AdminChannel())
                  ->ListProviders(context.get(), list_providers, &providers)
                  .ok());
  EXPECT_EQ(providers.providers_size(), 0);
}

TEST_F(ServerTest, AdminServiceIsNotOnThePublicListener) {
  for (const std::string& method : MethodsOf(v1::AdminService::service_full_name())) {
    EXPECT_EQ(CallEmpty(server_->PublicChannel(), method), grpc::StatusCode::UNIMPLEMENTED)
        << method;
  }
  grpc::StatusCode code;
  CheckHealth(server_->PublicChannel(), "intake.v1.AdminService", &code);
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServerTest, PrintsTheBoundAddressesAsOneJsonLine) {
  const ExitResult result = server_->Stop(SIGTERM);
  const std::string expected = absl::StrCat(
      R"({"listen": ")", server_->listen_address(), R"(", "admin_listen": ")",
      server_->admin_address(), R"(", "metrics_listen": ")", server_->metrics_address(), "\"}\n");
  EXPECT_EQ(result.stdout_text, expected);
  EXPECT_NE(server_->listen_address(), "127.0.0.1:0");
  EXPECT_NE(server_->listen_address(), server_->admin_address());
}

TEST_F(ServerTest, SigtermTurnsHealthNotServingThenExitsZero) {
  // A health watcher sees the drain begin before the server goes away.
  auto context = ContextWithDeadline(absl::Seconds(30));
  HealthCheckRequest request;
  auto watch = Health::NewStub(server_->AdminChannel())->Watch(context.get(), request);
  HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  ASSERT_EQ(response.status(), HealthCheckResponse::SERVING);

  std::future<ExitResult> stopped =
      std::async(std::launch::async, [this] { return server_->Stop(SIGTERM); });
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING);
  context->TryCancel();
  const ExitResult result = stopped.get();
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
}

TEST_F(ServerTest, SigintAlsoExitsZero) {
  const ExitResult result = server_->Stop(SIGINT);
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
}

TEST(RestartTest, SecondStartReusesTheDatabaseAndTheAdminToken) {
  TempDir dir;
  const std::string data_dir = dir.File("var");
  std::string token, first_stderr;
  {
    auto first = IntakedProcess::Start({}, data_dir);
    ASSERT_NE(first, nullptr);
    token = first->AdminToken();
    first_stderr = first->Stop(SIGTERM).stderr_text;
  }
  EXPECT_EQ(token.size(), 43u);
  struct stat st {};
  ASSERT_EQ(stat((data_dir + "/admin.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat(data_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  auto second = IntakedProcess::Start({}, data_dir);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->AdminToken(), token);
  const std::string second_stderr = second->Stop(SIGTERM).stderr_text;
  // Start-up names the database's identity; the same one means the same database.
  const auto instance = [](const std::string& log) {
    const size_t at = log.find(" instance=");
    return at == std::string::npos ? std::string() : log.substr(at, 10 + 32);
  };
  EXPECT_FALSE(instance(first_stderr).empty()) << first_stderr;
  EXPECT_EQ(instance(first_stderr), instance(second_stderr));
  EXPECT_EQ(second_stderr.find(token), std::string::npos) << "the token must not be logged";
}

}  // namespace
}  // namespace intake::testing
