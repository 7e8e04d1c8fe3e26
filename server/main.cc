// intaked: flags and wiring only. Everything with behaviour lives in server/*.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpc/support/log.h"
#include "server/api/access_log.h"
#include "server/api/metrics.h"
#include "server/api/metrics_endpoint.h"
#include "server/api/server.h"
#include "server/api/shifted_clock.h"
#include "server/api/state_collector.h"
#include "server/api/tokens.h"
#include "server/domain/us_phone.h"
#include "server/store/data_dir.h"
#include "server/store/pii_cipher.h"
#include "server/store/postgres/connection.h"
#include "server/store/postgres/postgres_store.h"
#include "server/store/retention_sweeper.h"
#include "server/store/store.h"
#include "server/stream/subscriber_hub.h"

ABSL_FLAG(std::string, listen, "0.0.0.0:50051",
          "host:port of the public listener (IntakeService, ProviderService, health). "
          "Port 0 picks a free port. Env: INTAKE_LISTEN.");
ABSL_FLAG(std::string, admin_listen, "127.0.0.1:50052",
          "host:port of the admin listener (AdminService and everything on --listen, plus "
          "health and server reflection). Keep it on loopback or a private network. "
          "Env: INTAKE_ADMIN_LISTEN.");
ABSL_FLAG(std::string, health_listen, "",
          "host:port of a plaintext listener that serves grpc.health.v1 only, with the public "
          "listener's statuses (NOT_SERVING while draining), for probes that cannot speak TLS "
          "such as Kubernetes' gRPC probes. Port 0 picks a free port; empty: none. "
          "Env: INTAKE_HEALTH_LISTEN.");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "host:port where Prometheus scrapes /metrics (text format). Port 0 picks a free "
          "port; empty turns metrics off. Env: INTAKE_METRICS_LISTEN.");
ABSL_FLAG(std::string, data_dir, "./var",
          "Directory of the SQLite database (intake.db), the admin token (admin.token) and "
          "the data key (data.key) that seals callers' data: back the key up apart from the "
          "database, which is useless without it. Created with mode 0700 if missing. "
          "Env: INTAKE_DATA_DIR.");
ABSL_FLAG(std::string, database, "",
          "PostgreSQL database for a fleet of intaked replicas, as a libpq URI "
          "(postgresql://user@host/dbname?sslmode=verify-full); the password comes from "
          "PGPASSFILE or PGPASSWORD, never from this flag. Empty: SQLite in --data_dir. With "
          "a database, --data_dir only holds the secrets (admin.token, data.key), shared by "
          "every replica and never written: they must exist. Env: INTAKE_DATABASE.");
ABSL_FLAG(std::string, admin_token_file, "",
          "File holding the admin token. Empty: <data_dir>/admin.token, made (mode 0600) on "
          "first start if missing. When set (e.g. to a mounted Kubernetes Secret or a systemd "
          "credential) the file must exist; it is never made. Env: INTAKE_ADMIN_TOKEN_FILE.");
ABSL_FLAG(std::string, data_key_file, "",
          "File holding the data key (64 hex digits) that seals callers' data. Empty: "
          "<data_dir>/data.key, made with a new database if missing. When set the file must "
          "exist; it is never made. Without this very key the callers' data in the database "
          "and in every backup is lost: keep a copy apart from the backups. "
          "Env: INTAKE_DATA_KEY_FILE.");
ABSL_FLAG(std::string, ports_file, "",
          "If set, once serving, write the bound addresses there as one JSON object "
          "{\"listen\": ..., \"admin_listen\": ..., \"health_listen\": ..., "
          "\"metrics_listen\": ...} (health_listen and metrics_listen only when on), so scripts "
          "using port 0 need not guess. "
          "Env: INTAKE_PORTS_FILE.");
ABSL_FLAG(std::string, intake_keys_file, "",
          "If set, IntakeService (SubmitCallback, GetResponseStats) requires "
          "`authorization: Bearer <key>` with one of the keys in this file (one per line, "
          "'#' comments). The file is re-read when it changes. Env: INTAKE_INTAKE_KEYS_FILE.");
ABSL_FLAG(absl::Duration, dedup_window, absl::Hours(24),
          "A submission with the same phone number and target (listing, or the general "
          "helpline) as a lead last submitted at most this long before (the edge included) is "
          "merged into that lead. Env: INTAKE_DEDUP_WINDOW.");
ABSL_FLAG(absl::Duration, pii_retention, absl::Hours(2160),
          "The personal data of a lead last submitted longer ago than this is erased, as "
          "AdminService.EraseCaller erases it (every provider that had the lead gets an ERASED "
          "event), by a background sweep that runs at start and every minute; 0 keeps it until "
          "erased or purged. Quarantined submissions are deleted after 7 days either way. "
          "Env: INTAKE_PII_RETENTION.");
ABSL_FLAG(std::string, clock_offset_file, "",
          "For tests only: intaked's clock runs this far (a duration such as 49h, read from "
          "the file at every reading of the clock) ahead of the system's. Empty: the system "
          "clock. Env: INTAKE_CLOCK_OFFSET_FILE.");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(15),
          "Idle lead streams get a HEARTBEAT message this often, so proxies keep them open. "
          "Env: INTAKE_HEARTBEAT_INTERVAL.");
ABSL_FLAG(absl::Duration, response_sla, absl::Hours(1),
          "A first contact attempt within this long of a lead's creation counts as a response "
          "in the response rate. Env: INTAKE_RESPONSE_SLA.");
ABSL_FLAG(absl::Duration, response_window, absl::Hours(24 * 30),
          "Response figures cover the leads created in this window (whole days). "
          "Env: INTAKE_RESPONSE_WINDOW.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain (leaf first) that both listeners serve TLS with; needs "
          "--tls_key. Empty: plaintext. The file is re-read every --tls_reload_interval, so a "
          "renewed certificate needs no restart. Env: INTAKE_TLS_CERT.");
ABSL_FLAG(std::string, tls_key, "",
          "PEM private key of --tls_cert (no passphrase). Env: INTAKE_TLS_KEY.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: the admin listener then requires a client certificate signed by "
          "it (mTLS for ops). Needs --tls_cert. Env: INTAKE_TLS_CLIENT_CA.");
ABSL_FLAG(std::string, tls_client_ca_public, "",
          "PEM CA bundle: the public listener then requires a client certificate signed by "
          "it (for deployments where only a gateway may call it). Needs --tls_cert. "
          "Env: INTAKE_TLS_CLIENT_CA_PUBLIC.");
ABSL_FLAG(absl::Duration, tls_reload_interval, absl::Minutes(1),
          "How often the TLS files are checked for changes; new connections get what they "
          "hold then. At least 1s. Env: INTAKE_TLS_RELOAD_INTERVAL.");
ABSL_FLAG(double, client_rate, 1,
          "SubmitCallback calls per second each client may make on average (a token bucket); "
          "0: no per-client limit. The client is the peer address (an IPv6 /64), or "
          "form.client_ip when the call carries a valid intake key (a gateway submitting for "
          "many people). Over the limit: RESOURCE_EXHAUSTED with google.rpc.RetryInfo, nothing "
          "stored. Env: INTAKE_CLIENT_RATE.");
ABSL_FLAG(double, client_burst, 10,
          "Calls a client may make at once before --client_rate applies (the bucket's size); "
          "at least 1. Env: INTAKE_CLIENT_BURST.");
ABSL_FLAG(double, global_rate, 0,
          "SubmitCallback calls per second for all clients together (a second's worth may come "
          "at once); 0: no global limit. Env: INTAKE_GLOBAL_RATE.");
ABSL_FLAG(int32_t, max_pending_submissions, 2048,
          "SubmitCallback calls that may wait for their commit at once. When the database "
          "falls behind the arrivals, more valid submissions are shed at once with UNAVAILABLE "
          "(nothing stored; safe to retry with the same request_id; counted in "
          "intake_submissions_total{outcome=\"shed\"}) instead of queueing in memory without "
          "end. 0: no bound. Env: INTAKE_MAX_PENDING_SUBMISSIONS.");
ABSL_FLAG(int32_t, max_streams_per_token, 100,
          "Lead streams (SubscribeLeads, WatchLeads) one token may hold open at once, so a "
          "leaked or looping client cannot hold unbounded server resources; more are refused "
          "with RESOURCE_EXHAUSTED. 0: no cap. Env: INTAKE_MAX_STREAMS_PER_TOKEN.");
ABSL_FLAG(absl::Duration, max_connection_age, absl::Minutes(30),
          "Connections older than this are asked to reconnect (GOAWAY), so an L4 load balancer "
          "spreads clients anew; 0: never. Env: INTAKE_MAX_CONNECTION_AGE.");
ABSL_FLAG(absl::Duration, max_connection_age_grace, absl::Minutes(5),
          "How long calls still open on such a connection may go on before it closes (lead "
          "streams then end with UNAVAILABLE and resume from their cursor). "
          "Env: INTAKE_MAX_CONNECTION_AGE_GRACE.");
ABSL_FLAG(int32_t, max_concurrent_streams, 10000,
          "Calls open at once on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); more "
          "wait in the client. intake-web carries every dashboard stream it serves on one "
          "connection, so keep this above the dashboards one gateway serves. At least 1. "
          "Env: INTAKE_MAX_CONCURRENT_STREAMS.");
ABSL_FLAG(std::string, log_format, "text",
          "How intaked writes its lines on stderr (one per call, and the start-up, drain and "
          "error lines): text (`intaked: <msg> key=value ... time=...`) or json (one JSON object "
          "per line: time, msg and the same keys). They carry ids, never personal data. "
          "Env: INTAKE_LOG_FORMAT.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "On SIGTERM or SIGINT, how long calls in flight may take to finish before they are "
          "cancelled. Env: INTAKE_SHUTDOWN_GRACE.");

namespace {

bool IsOwnFlag(absl::string_view file) { return absl::EndsWith(file, "server/main.cc"); }

// Each flag of this file may come from INTAKE_<FLAG>; the command line wins, so this runs
// first.
bool ApplyEnvironment() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!IsOwnFlag(flag->Filename())) continue;
    const std::string var = absl::AsciiStrToUpper(absl::StrCat("INTAKE_", name));
    const char* value = std::getenv(var.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::cerr << "intaked: " << var << ": " << error << "\n";
      return false;
    }
  }
  return true;
}

// gRPC's own log lines: dropped until the server is up (start-up failures get one line of our
// own), then only errors, marked as gRPC's, in intaked's log format.
std::atomic<const intake::api::EventLog*> grpc_log{nullptr};
void LogFromGrpc(gpr_log_func_args* args) {
  const intake::api::EventLog* log = grpc_log.load();
  if (log == nullptr || args->severity != GPR_LOG_SEVERITY_ERROR) return;
  log->Write("grpc error", {{"message", args->message}});
}

// A flag value out of its range, before anything starts: exit code 2, as for an unknown flag.
std::optional<std::string> CheckFlags() {
  if (absl::GetFlag(FLAGS_client_rate) < 0) return "--client_rate must be 0 or more";
  if (absl::GetFlag(FLAGS_client_burst) < 1) return "--client_burst must be at least 1";
  if (absl::GetFlag(FLAGS_global_rate) < 0) return "--global_rate must be 0 or more";
  if (absl::GetFlag(FLAGS_pii_retention) < absl::ZeroDuration()) {
    return "--pii_retention must be 0 (off) or more";
  }
  if (absl::GetFlag(FLAGS_max_pending_submissions) < 0) {
    return "--max_pending_submissions must be 0 or more";
  }
  if (absl::GetFlag(FLAGS_max_streams_per_token) < 0) {
    return "--max_streams_per_token must be 0 or more";
  }
  if (absl::GetFlag(FLAGS_max_connection_age) < absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_max_connection_age_grace) < absl::ZeroDuration()) {
    return "--max_connection_age and --max_connection_age_grace must be 0 or more";
  }
  if (absl::GetFlag(FLAGS_max_concurrent_streams) < 1) {
    return "--max_concurrent_streams must be at least 1";
  }
  intake::api::LogFormat format;
  if (!intake::api::ParseLogFormat(absl::GetFlag(FLAGS_log_format), &format)) {
    return "--log_format must be text or json";
  }
  return std::nullopt;
}

absl::Status WritePortsFile(const std::string& path, const std::string& json) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json << "\n";
    if (!out.flush()) return absl::FailedPreconditionError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::FailedPreconditionError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Intake lead-intake gRPC server.\n"
      "Usage: intaked [--listen=HOST:PORT] [--admin_listen=HOST:PORT] [--data_dir=DIR] ...\n"
      "Every flag can also be set from the environment as INTAKE_<FLAG NAME IN CAPITALS>.");
  absl::FlagsUsageConfig usage;
  // --help lists the flags defined here (not Abseil's or gRPC's own).
  usage.contains_help_flags = IsOwnFlag;
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  if (!ApplyEnvironment()) return 2;
  absl::ParseCommandLine(argc, argv);
  if (std::optional<std::string> problem = CheckFlags()) {
    std::cerr << "intaked: " << *problem << "\n";
    return 2;
  }
  std::unique_ptr<intake::Clock> shifted_clock;
  if (const std::string path = absl::GetFlag(FLAGS_clock_offset_file); !path.empty()) {
    shifted_clock = std::make_unique<intake::api::ShiftedClock>(path);
  }
  const intake::Clock* clock =
      shifted_clock != nullptr ? shifted_clock.get() : &intake::SystemClock::Get();
  intake::api::LogFormat log_format = intake::api::LogFormat::kText;
  intake::api::ParseLogFormat(absl::GetFlag(FLAGS_log_format), &log_format);
  const intake::api::EventLog log(log_format, clock);
  // A start-up failure: one line, exit code 1.
  auto fail = [&log](const absl::Status& status) {
    log.Write(status.message(), {});
    return 1;
  };
  gpr_set_log_function(LogFromGrpc);
#ifdef NDEBUG
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (about 2% of the
  // server's CPU under load, measured with perf) and would abort the server on one. Debug and
  // sanitizer builds, which every test runs too, keep the check.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif

  // Signals are taken by sigwait below; block them before any thread exists so every thread
  // inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const std::string database = absl::GetFlag(FLAGS_database);
  if (!database.empty() && intake::store::postgres::ConninfoHasPassword(database)) {
    return fail(absl::InvalidArgumentError(
        "--database must not hold a password (the command line and environment of a process "
        "are visible to others): put it in a PGPASSFILE"));
  }
  // With PostgreSQL the data directory is a read-only copy of the fleet's secrets.
  if (database.empty()) {
    if (absl::Status s = intake::store::PrepareDataDir(data_dir); !s.ok()) return fail(s);
  }
  // Secrets named by a flag are mounted ones, never made here; the defaults in the data
  // directory are made on first start. A new data key only goes with a new database: one made
  // for an existing (say, restored) database could never open the callers' data in it.
  const std::string db_path = data_dir + "/intake.db";
  std::string admin_token_path = absl::GetFlag(FLAGS_admin_token_file);
  if (admin_token_path.empty() && !database.empty()) admin_token_path = data_dir + "/admin.token";
  absl::StatusOr<std::string> admin_token =
      admin_token_path.empty()
          ? intake::store::ReadOrCreateSecretFile(admin_token_path = data_dir + "/admin.token",
                                                  intake::api::NewBearerToken)
          : intake::store::ReadSecretFile(admin_token_path);
  if (!admin_token.ok()) return fail(admin_token.status());
  std::string key_path = absl::GetFlag(FLAGS_data_key_file);
  const bool make_key = key_path.empty() && database.empty() && !std::filesystem::exists(db_path);
  if (key_path.empty()) key_path = data_dir + "/data.key";
  absl::StatusOr<std::string> data_key =
      make_key
          ? intake::store::ReadOrCreateSecretFile(key_path, intake::store::PiiCipher::NewKeyHex)
          : intake::store::ReadSecretFile(key_path);
  if (absl::IsNotFound(data_key.status()) && std::filesystem::exists(db_path)) {
    return fail(absl::FailedPreconditionError(absl::StrCat(
        key_path, " is missing, but ", db_path,
        " exists: put back the data.key that belongs to this database (a new key could not "
        "read the callers' data in it)")));
  }
  if (absl::IsNotFound(data_key.status()) && !database.empty()) {
    return fail(absl::FailedPreconditionError(absl::StrCat(
        key_path,
        " is missing: with --database every replica reads the one data key of the "
        "fleet (64 hex digits, e.g. from `openssl rand -hex 32`) and never makes one")));
  }
  if (!data_key.ok()) return fail(data_key.status());
  absl::StatusOr<std::unique_ptr<intake::store::PiiCipher>> cipher =
      intake::store::PiiCipher::FromKeyHex(*data_key);
  if (!cipher.ok()) {
    return fail(
        absl::FailedPreconditionError(absl::StrCat(key_path, ": ", cipher.status().message())));
  }

  absl::StatusOr<std::string> page_token_key =
      intake::store::DeriveDataSubkey(*data_key, "pagetokn", intake::api::PageTokens::kKeyBytes);
  if (!page_token_key.ok()) return fail(page_token_key.status());

  // Metrics: the registry and what records into it outlive everything that reports to them.
  const std::string metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<intake::api::Metrics> metrics;
  if (!metrics_listen.empty()) metrics = std::make_unique<intake::api::Metrics>(*registry);

  intake::stream::SubscriberHub hub;
  // Token changes made through any replica (PostgreSQL): told to these while they exist.
  absl::Mutex token_mu;
  intake::api::Authenticator* token_auth = nullptr;  // Both guarded by token_mu.
  intake::api::IntakeServer* token_server = nullptr;
  std::unique_ptr<intake::store::Storage> store;
  if (database.empty()) {
    intake::store::StoreOptions store_options;
    store_options.writer_observer = metrics.get();
    store_options.clock = clock;
    store_options.cipher = cipher->get();
    store_options.dedup_window = absl::GetFlag(FLAGS_dedup_window);
    store_options.on_events_committed = [&hub](uint64_t head,
                                               const std::vector<std::string>& providers) {
      hub.Notify(head, providers);
    };
    absl::StatusOr<std::unique_ptr<intake::store::Store>> sqlite =
        intake::store::Store::Open(db_path, store_options);
    if (!sqlite.ok()) return fail(sqlite.status());
    store = *std::move(sqlite);
  } else {
    intake::store::postgres::PostgresStoreOptions store_options;
    store_options.conninfo = database;
    store_options.clock = clock;
    store_options.cipher = cipher->get();
    store_options.dedup_window = absl::GetFlag(FLAGS_dedup_window);
    store_options.on_events_committed = [&hub](uint64_t head,
                                               const std::vector<std::string>& providers) {
      hub.Notify(head, providers);
    };
    store_options.on_token_change = [&](intake::store::postgres::TokenChange change,
                                        const intake::store::ProviderToken& token) {
      absl::MutexLock lock(&token_mu);
      if (token_auth == nullptr) return;  // Not serving yet: the start-up read covers it.
      if (change == intake::store::postgres::TokenChange::kIssued) {
        token_auth->AddProviderToken(token);
        return;
      }
      token_auth->RemoveProviderToken(token);
      if (token_server != nullptr) token_server->EndStreamsOfToken(token.token_sha256);
    };
    absl::StatusOr<std::unique_ptr<intake::store::postgres::PostgresStore>> postgres =
        intake::store::postgres::PostgresStore::Open(std::move(store_options));
    if (!postgres.ok()) return fail(postgres.status());
    store = *std::move(postgres);
  }
  hub.Notify(store->head_sequence(), {});
  absl::StatusOr<std::vector<intake::store::ProviderToken>> tokens = store->ActiveProviderTokens();
  if (!tokens.ok()) return fail(tokens.status());
  absl::StatusOr<std::unique_ptr<intake::api::Authenticator>> auth =
      intake::api::Authenticator::Create({admin_token_path, absl::GetFlag(FLAGS_intake_keys_file)},
                                         *tokens);
  if (!auth.ok()) return fail(auth.status());
  {
    absl::MutexLock lock(&token_mu);
    token_auth = auth->get();
  }

  const intake::UsPhoneNormalizer phones;
  intake::api::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.admin_listen = absl::GetFlag(FLAGS_admin_listen);
  options.health_listen = absl::GetFlag(FLAGS_health_listen);
  options.tls.cert_path = absl::GetFlag(FLAGS_tls_cert);
  options.tls.key_path = absl::GetFlag(FLAGS_tls_key);
  options.tls.admin_client_ca_path = absl::GetFlag(FLAGS_tls_client_ca);
  options.tls.public_client_ca_path = absl::GetFlag(FLAGS_tls_client_ca_public);
  options.tls.reload_interval = absl::GetFlag(FLAGS_tls_reload_interval);
  options.heartbeat_interval = absl::GetFlag(FLAGS_heartbeat_interval);
  options.response_policy.sla = absl::GetFlag(FLAGS_response_sla);
  options.response_policy.window = absl::GetFlag(FLAGS_response_window);
  options.page_token_key = *std::move(page_token_key);
  options.rate_limits.client_rate = absl::GetFlag(FLAGS_client_rate);
  options.rate_limits.client_burst = absl::GetFlag(FLAGS_client_burst);
  options.rate_limits.global_rate = absl::GetFlag(FLAGS_global_rate);
  options.max_pending_submissions = absl::GetFlag(FLAGS_max_pending_submissions);
  options.max_streams_per_token = absl::GetFlag(FLAGS_max_streams_per_token);
  options.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  options.max_connection_age_grace = absl::GetFlag(FLAGS_max_connection_age_grace);
  options.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  absl::StatusOr<std::unique_ptr<intake::api::IntakeServer>> server =
      intake::api::IntakeServer::Start(
          options, {store.get(), auth->get(), &phones, &hub, clock, metrics.get(), &log});
  if (!server.ok()) return fail(server.status());
  {
    absl::MutexLock lock(&token_mu);
    token_server = server->get();
  }
  std::unique_ptr<intake::api::MetricsEndpoint> metrics_endpoint;
  if (metrics != nullptr) {
    auto state = std::make_shared<intake::api::StateCollector>(
        store.get(), [s = server->get()] { return s->open_streams(); }, clock);
    absl::StatusOr<std::unique_ptr<intake::api::MetricsEndpoint>> endpoint =
        intake::api::MetricsEndpoint::Start(metrics_listen, {registry, state});
    if (!endpoint.ok()) return fail(endpoint.status());
    metrics_endpoint = *std::move(endpoint);
  }
  grpc_log = &log;

  // Addresses are host:port strings just bound, so they need no JSON escaping.
  std::string ports = absl::StrFormat(R"({"listen": "%s", "admin_listen": "%s")",
                                      (*server)->listen_address(), (*server)->admin_address());
  if (!(*server)->health_address().empty()) {
    absl::StrAppend(&ports, R"(, "health_listen": ")", (*server)->health_address(), "\"");
  }
  if (metrics_endpoint != nullptr) {
    absl::StrAppend(&ports, R"(, "metrics_listen": ")", metrics_endpoint->address(), "\"");
  }
  ports += "}";
  if (const std::string path = absl::GetFlag(FLAGS_ports_file); !path.empty()) {
    if (absl::Status s = WritePortsFile(path, ports); !s.ok()) return fail(s);
  }
  intake::store::RetentionSweeper::Options retention_options;
  retention_options.pii_retention = absl::GetFlag(FLAGS_pii_retention);
  retention_options.on_sweep = [&log](const intake::store::RetentionSweeper::Sweep& sweep) {
    // Counts and times only, never anything of a caller.
    log.Write(
        sweep.status.ok() ? "retention sweep" : "retention sweep stopped",
        {{"erased_leads", sweep.erased_leads},
         {"deleted_quarantined", sweep.deleted_quarantined},
         {"steps", sweep.steps},
         {"longest_hold_ms", absl::ToDoubleMilliseconds(sweep.longest_hold)},
         {"mean_hold_ms",
          sweep.steps == 0 ? 0.0 : absl::ToDoubleMilliseconds(sweep.total_hold) / sweep.steps},
         {"error", sweep.status.ok() ? "-" : std::string(sweep.status.message())}});
  };
  intake::store::RetentionSweeper retention(store.get(), clock, retention_options);
  retention.Start();
  std::cout << ports << std::endl;
  log.Write(
      "serving",
      {{"listen", (*server)->listen_address()},
       {"admin_listen", (*server)->admin_address()},
       {"health_listen", (*server)->health_address().empty() ? "-" : (*server)->health_address()},
       {"metrics_listen", metrics_endpoint != nullptr ? metrics_endpoint->address() : "-"},
       {"database", store->location()},
       {"instance", store->instance_id()},
       {"schema_version", store->schema_version()}});

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  log.Write("draining", {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
  // A second signal while draining means "now".
  std::thread([&stop_signals, &log] {
    int again = 0;
    sigwait(&stop_signals, &again);
    log.Write("second signal: exiting without waiting", {});
    std::_Exit(1);
  }).detach();
  retention.Stop();
  (*server)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  {
    absl::MutexLock lock(&token_mu);
    token_server = nullptr;
    token_auth = nullptr;
  }
  grpc_log = nullptr;
  log.Write("stopped", {});
  return 0;
}
