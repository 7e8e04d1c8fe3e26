// stats and health: how the server is doing.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/intakectl/command.h"
#include "client/intakectl/enum_labels.h"
#include "client/intakectl/unary_call.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "intake/v1/admin_service.grpc.pb.h"

namespace intake::ctl {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

void PrintStats(const v1::GetStatsResponse& r) {
  const v1::StatsTotals& t = r.totals();
  PrintRecord({{"submissions", std::to_string(t.submissions())},
               {"leads", std::to_string(t.leads())},
               {"duplicates merged", std::to_string(t.duplicates_merged())},
               {"bot submissions", std::to_string(t.bot_submissions())},
               {"invalid submissions", std::to_string(t.invalid_submissions())},
               {"rate limited", std::to_string(t.rate_limited())},
               {"counting since", FormatTimestamp(t.count_start_time())}},
              std::cout);
  std::cout << "\n";
  Table table({"PROVIDER", "ASSIGNED", "ACKNOWLEDGED", "CONTACTED", "MEDIAN RESPONSE",
               "RESPONSE RATE", "SAMPLE", "WINDOW"});
  for (const v1::ProviderStats& p : r.providers()) {
    table.AddRow({p.provider_id(), std::to_string(p.assigned()), std::to_string(p.acknowledged()),
                  std::to_string(p.contacted()),
                  FormatMedianResponse(p.median_response_seconds(), p.sample_size()),
                  FormatResponseRate(p.response_rate(), p.sample_size()),
                  std::to_string(p.sample_size()), absl::StrCat(p.window_days(), "d")});
  }
  table.Print(std::cout);
}

int Stats(const Invocation& run) {
  return RunAdmin(run, &v1::AdminService::Stub::GetStats, v1::GetStatsRequest(), PrintStats);
}

int CheckHealth(const Invocation& run) {
  HealthCheckRequest request;
  if (!run.flags.Text("service", /*required=*/false, request.mutable_service())) {
    return kExitUsage;
  }
  const std::optional<Connection> connection =
      Connection::Open(run.global, Listener::kAdmin, Credential::kNone);
  if (!connection) return kExitUsage;
  HealthCheckResponse response;
  const grpc::Status status = CallUnary(*connection, &Health::Stub::Check, request, &response);
  if (!status.ok()) return ReportRpcError(status, connection->address());
  if (run.json()) {
    PrintJson(response);
  } else {
    std::cout << connection->address() << "  "
              << EnumLabel(HealthCheckResponse::ServingStatus_descriptor(), response.status())
              << "\n";
  }
  return response.status() == HealthCheckResponse::SERVING ? kExitOk : kExitUnreachable;
}

}  // namespace

std::vector<Command> ServerCommands() {
  return {
      {"",
       "stats",
       "Show submission counters and each provider's response figures.",
       "intakectl stats",
       {},
       Stats},
      {"",
       "health",
       "Ask a listener whether it is serving (grpc.health.v1); exits 3 when it is not.",
       "intakectl health --addr=127.0.0.1:50051",
       {{"service", "NAME",
         "a service's full name, e.g. intake.v1.IntakeService; default: the "
         "server as a whole"}},
       CheckHealth},
  };
}

}  // namespace intake::ctl
