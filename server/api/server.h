// The two gRPC servers of intaked: the public listener (IntakeService, ProviderService,
// health) and the admin listener (the same plus AdminService and server reflection).
#ifndef INTAKE_SERVER_API_SERVER_H_
#define INTAKE_SERVER_API_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/server.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "server/api/access_log.h"
#include "server/api/admin_service.h"
#include "server/api/auth.h"
#include "server/api/blocking_executor.h"
#include "server/api/intake_service.h"
#include "server/api/lead_stream.h"
#include "server/api/paging.h"
#include "server/api/provider_service.h"
#include "server/api/rate_limiter.h"
#include "server/api/response_figures_cache.h"
#include "server/api/rpc_gate.h"
#include "server/api/tls.h"
#include "server/store/storage.h"

namespace intake::api {

struct ServerOptions {
  // host:port of the public listener; port 0 picks a free port.
  std::string listen = "0.0.0.0:50051";
  // host:port of the admin listener; keep it off public interfaces.
  std::string admin_listen = "127.0.0.1:50052";
  // host:port of a plaintext listener that serves grpc.health.v1 only, with the public
  // listener's statuses, for probes that cannot speak TLS (Kubernetes' gRPC probes); empty:
  // none. Health says SERVING or NOT_SERVING and nothing else, so it needs no TLS.
  std::string health_listen;
  // TLS for both listeners (off by default), and which of them require client certificates.
  TlsOptions tls;
  // Threads on which handlers wait for SQLite.
  int blocking_threads = 4;
  // Threads on which lead streams read the event log from SQLite: their own, so that many
  // streams catching up at once never keep other calls waiting.
  int stream_threads = 2;
  // Idle lead streams get a HEARTBEAT this often.
  absl::Duration heartbeat_interval = absl::Seconds(15);
  // Response figures: the window and SLA, and how stale a cached computation may be.
  ResponsePolicy response_policy;
  absl::Duration figures_max_age = absl::Seconds(5);
  // The key page tokens are signed with: PageTokens::kKeyBytes, the same on every replica
  // (derived from the data key). Required.
  std::string page_token_key;
  // SubmitCallback's rate limits (both rates 0: none).
  RateLimiter::Options rate_limits;
  // SubmitCallback calls that may wait for their commit at once; past it valid submissions
  // are shed with UNAVAILABLE. 0: no bound (the writer's own queue bound still holds).
  int max_pending_submissions = 2048;
  // Lead streams one token may hold open at once; 0: no cap.
  int max_streams_per_token = 100;
  // gRPC transport settings of both listeners (see server.cc for the rest, which are fixed).
  // A connection older than max_connection_age is asked to go (GOAWAY), so clients reconnect
  // and an L4 load balancer spreads them anew; calls still open get the grace period, then the
  // connection closes (lead streams end with UNAVAILABLE and resume from their cursor).
  absl::Duration max_connection_age = absl::Minutes(30);
  absl::Duration max_connection_age_grace = absl::Minutes(5);
  // Calls open at once on one connection; more wait in the client. intake-web carries all its
  // dashboards' streams on one connection.
  int max_concurrent_streams = 10'000;
};

// What the servers' services work with; none is owned, all must outlive the server.
struct ServerDeps {
  store::Storage* store;
  Authenticator* auth;
  const PhoneNormalizer* phones;
  stream::SubscriberHub* hub;
  const Clock* clock;
  // Records the gRPC and intake metrics; null when metrics are off.
  Metrics* metrics = nullptr;
  // Gets one access-log line per call; null: no access log.
  const EventLog* access_log = nullptr;
};

class IntakeServer {
 public:
  // Binds both listeners and starts serving, health SERVING. Returns kUnavailable naming the
  // listener that could not bind (port in use, bad address), kFailedPrecondition for a TLS
  // configuration that CheckTlsOptions refuses.
  static absl::StatusOr<std::unique_ptr<IntakeServer>> Start(const ServerOptions& options,
                                                             const ServerDeps& deps);

  IntakeServer(const IntakeServer&) = delete;
  IntakeServer& operator=(const IntakeServer&) = delete;
  ~IntakeServer();

  // The bound addresses, with the real port where 0 was asked for.
  const std::string& listen_address() const { return listen_address_; }
  const std::string& admin_address() const { return admin_address_; }
  // Empty without a health listener.
  const std::string& health_address() const { return health_address_; }
  // Lead streams open now. Thread-safe.
  size_t open_streams() const { return streams_.size(); }
  // Ends the lead streams of the provider token with this SHA-256 (revoked through another
  // replica). Thread-safe.
  void EndStreamsOfToken(const std::string& token_sha256) { streams_.Revoke(token_sha256); }

  // Drains: health turns NOT_SERVING on every listener, lead streams end with UNAVAILABLE
  // (clients resume elsewhere from their cursor), new calls are refused, calls in flight get
  // until `grace` from now to finish, then are cancelled; then the figures' refresher stops.
  // Blocks until every server has stopped. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  IntakeServer(const ServerOptions& options, const ServerDeps& deps);

  // One instance per server: a gRPC service object registers with one server only.
  struct Services {
    Services(RpcGate* gate, const ServerDeps& deps, ResponseFiguresCache* figures,
             const LeadStreamContext& streams, const PageTokens* page_tokens, RateLimiter* limiter,
             InFlightLimit* pending_submissions)
        : intake(gate, deps.store, deps.phones, figures, deps.metrics, limiter,
                 pending_submissions),
          provider(gate, deps.store, streams, figures, page_tokens) {}
    IntakeServiceImpl intake;
    ProviderServiceImpl provider;
  };
  BlockingExecutor executor_;
  BlockingExecutor stream_executor_;
  RpcGate gate_;
  const std::unique_ptr<RateLimiter> limiter_;  // Null: no rate limits.
  InFlightLimit pending_submissions_;
  StreamRegistry streams_;
  ResponseFiguresCache figures_;
  const PageTokens page_tokens_;
  const LeadStreamContext stream_context_;
  Services public_services_;
  Services admin_services_;
  AdminServiceImpl admin_;
  // The health listener's only service: it answers every method UNIMPLEMENTED, but gRPC
  // starts no server without a service of its own (health is added at the start).
  grpc::CallbackGenericService unimplemented_;

  std::unique_ptr<grpc::Server> public_server_;
  std::unique_ptr<grpc::Server> admin_server_;
  std::unique_ptr<grpc::Server> health_server_;  // Null without a health listener.
  std::string listen_address_;
  std::string admin_address_;
  std::string health_address_;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_SERVER_H_
