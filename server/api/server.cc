#include "server/api/server.h"

#include <algorithm>
#include <climits>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/api/malformed_request.h"

namespace intake::api {
namespace {

// The largest request accepted; larger ones get RESOURCE_EXHAUSTED before any handler runs.
// Generous for a submission at every field limit (about 150 KiB of UTF-8 at worst).
constexpr int kMaxRequestBytes = 256 * 1024;
// The largest response: far above a full page of leads at every field limit (1000 leads of
// about 8 KiB), a guard against a runaway reply rather than a limit anyone should meet.
constexpr int kMaxResponseBytes = 32 * 1024 * 1024;

// Linking libgrpc++_reflection registers server reflection for every server in the process;
// this option takes it off a builder that must not describe the API.
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    grpc::reflection::ProtoServerReflectionPlugin reflection;
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [&](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
                                    return p->name() == reflection.name();
                                  }),
                   plugins->end());
  }
};

int Millis(absl::Duration d) {
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), INT_MAX));
}

// The transport settings a production server sets: connections rotate (max age), clients'
// keepalive pings are accepted every 5 s at most, with or without calls open (intake-web pings
// every 10 s to notice a dead intaked; a client pinging faster is sent GOAWAY
// "too_many_pings" after two strikes, as gRPC's keepalive guidance asks), and the server pings
// a connection idle for 2 minutes so that one whose client vanished (a laptop closed, a NAT
// that forgot it) is closed after 20 s more.
void SetTransportArguments(const ServerOptions& options, grpc::ServerBuilder& builder) {
  if (options.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, Millis(options.max_connection_age));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               Millis(options.max_connection_age_grace));
  }
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5'000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 120'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
}

// "host:0" with the port gRPC picked; other addresses unchanged.
std::string BoundAddress(const std::string& requested, int port) {
  const size_t colon = requested.rfind(':');
  if (colon == std::string::npos) return requested;
  return absl::StrCat(requested.substr(0, colon + 1), port);
}

// Builds and starts one server on `address`, reporting each of `services` SERVING through
// health, its calls recorded in deps' metrics and access log (those not null). `flag` names the
// listener in errors.
absl::StatusOr<std::unique_ptr<grpc::Server>> BuildServer(
    grpc::ServerBuilder& builder, const ServerOptions& options, const std::string& address,
    const std::shared_ptr<grpc::ServerCredentials>& credentials, const ServerDeps& deps,
    absl::string_view flag, std::initializer_list<const char*> services, std::string* bound) {
  int port = 0;
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  builder.SetMaxSendMessageSize(kMaxResponseBytes);
  SetTransportArguments(options, builder);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<MalformedRequestInterceptorFactory>());
  // After the one above, so that metrics and the access log record the status the client gets.
  if (deps.metrics != nullptr) interceptors.push_back(deps.metrics->NewInterceptorFactory());
  if (deps.access_log != nullptr) {
    interceptors.push_back(std::make_unique<AccessLogInterceptorFactory>(deps.access_log));
  }
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.AddListeningPort(address, credentials, &port);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address, " (--", flag,
                                               "): the address is in use or not valid here"));
  }
  *bound = BoundAddress(address, port);
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  for (const char* service : services) health->SetServingStatus(service, true);
  return server;
}

}  // namespace

IntakeServer::IntakeServer(const ServerOptions& options, const ServerDeps& deps)
    : executor_(options.blocking_threads),
      stream_executor_(options.stream_threads),
      gate_(deps.auth, &executor_),
      limiter_(options.rate_limits.client_rate > 0 || options.rate_limits.global_rate > 0
                   ? std::make_unique<RateLimiter>(options.rate_limits, deps.clock)
                   : nullptr),
      pending_submissions_(options.max_pending_submissions),
      streams_(options.max_streams_per_token),
      figures_(deps.store, deps.clock, options.response_policy, options.figures_max_age),
      page_tokens_(options.page_token_key),
      stream_context_{
          deps.store,        deps.hub,    &stream_executor_, &streams_, options.heartbeat_interval,
          /*page_size=*/256, deps.metrics},
      public_services_(&gate_, deps, &figures_, stream_context_, &page_tokens_, limiter_.get(),
                       &pending_submissions_),
      admin_services_(&gate_, deps, &figures_, stream_context_, &page_tokens_, limiter_.get(),
                      &pending_submissions_),
      admin_(&gate_, deps.store, deps.phones, deps.clock, stream_context_, &figures_,
             &page_tokens_) {}

absl::StatusOr<std::unique_ptr<IntakeServer>> IntakeServer::Start(const ServerOptions& options,
                                                                  const ServerDeps& deps) {
  if (absl::Status s = CheckTlsOptions(options.tls); !s.ok()) return s;
  grpc::EnableDefaultHealthCheckService(true);
  std::unique_ptr<IntakeServer> server(new IntakeServer(options, deps));

  // Reflection is for the admin listener only (idempotent; also keeps the library linked).
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder public_builder;
  public_builder.SetOption(std::make_unique<WithoutReflection>());
  grpc::ServerBuilder admin_builder;

  public_builder.RegisterService(&server->public_services_.intake);
  public_builder.RegisterService(&server->public_services_.provider);
  admin_builder.RegisterService(&server->admin_services_.intake);
  admin_builder.RegisterService(&server->admin_services_.provider);
  admin_builder.RegisterService(&server->admin_);

  absl::StatusOr<std::unique_ptr<grpc::Server>> public_server = BuildServer(
      public_builder, options, options.listen,
      ListenerCredentials(options.tls, options.tls.public_client_ca_path), deps, "listen",
      {v1::IntakeService::service_full_name(), v1::ProviderService::service_full_name()},
      &server->listen_address_);
  if (!public_server.ok()) return public_server.status();
  server->public_server_ = *std::move(public_server);

  absl::StatusOr<std::unique_ptr<grpc::Server>> admin_server = BuildServer(
      admin_builder, options, options.admin_listen,
      ListenerCredentials(options.tls, options.tls.admin_client_ca_path), deps, "admin_listen",
      {v1::IntakeService::service_full_name(), v1::ProviderService::service_full_name(),
       v1::AdminService::service_full_name()},
      &server->admin_address_);
  if (!admin_server.ok()) return admin_server.status();
  server->admin_server_ = *std::move(admin_server);

  if (!options.health_listen.empty()) {
    // No service but health, and no metrics or access log: probes come every few seconds.
    grpc::ServerBuilder health_builder;
    health_builder.SetOption(std::make_unique<WithoutReflection>());
    health_builder.RegisterCallbackGenericService(&server->unimplemented_);
    ServerDeps quiet = deps;
    quiet.metrics = nullptr;
    quiet.access_log = nullptr;
    absl::StatusOr<std::unique_ptr<grpc::Server>> health_server = BuildServer(
        health_builder, options, options.health_listen, grpc::InsecureServerCredentials(), quiet,
        "health_listen",
        {v1::IntakeService::service_full_name(), v1::ProviderService::service_full_name()},
        &server->health_address_);
    if (!health_server.ok()) return health_server.status();
    server->health_server_ = *std::move(health_server);
  }
  // Figures for the intake path's replies, kept fresh in the background.
  server->figures_.StartRefreshing();
  return server;
}

IntakeServer::~IntakeServer() {
  Shutdown(absl::ZeroDuration());
  // Background work (figure refreshes, stream reads) uses the members: finish it first.
  executor_.Shutdown();
  stream_executor_.Shutdown();
}

void IntakeServer::Shutdown(absl::Duration grace) {
  const gpr_timespec deadline =
      gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                   gpr_time_from_millis(absl::ToInt64Milliseconds(grace), GPR_TIMESPAN));
  for (grpc::Server* s : {public_server_.get(), admin_server_.get(), health_server_.get()}) {
    if (s != nullptr) s->GetHealthCheckService()->Shutdown();
  }
  streams_.DrainAll();
  stream_context_.hub->Close();  // Streams still finishing stop waiting.
  // In parallel: each waits for its own calls in flight (and, with gRPC 1.51, some seconds
  // for connected clients to go away), and the grace period is for both together.
  std::thread admin([this, deadline] {
    if (admin_server_ != nullptr) admin_server_->Shutdown(deadline);
  });
  if (public_server_ != nullptr) public_server_->Shutdown(deadline);
  admin.join();
  // Last, so that probes hear NOT_SERVING for as long as the drain lasts.
  if (health_server_ != nullptr) health_server_->Shutdown(deadline);
  figures_.StopRefreshing();  // No call is left to show them.
}

}  // namespace intake::api
