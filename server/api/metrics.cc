#include "server/api/metrics.h"

#include <chrono>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/support/status_code_enum.h"
#include "intake/v1/lead.pb.h"

namespace intake::api {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Histogram;

// The services whose methods get series up front: everything intaked serves.
constexpr const char* kServices[] = {
    "intake.v1.IntakeService",
    "intake.v1.ProviderService",
    "intake.v1.AdminService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
};

// gRPC's status code names, as go-grpc-prometheus writes them in grpc_code.
constexpr const char* kCodeNames[17] = {
    "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
    "DataLoss", "Unauthenticated"};

// Latency buckets reaching below a millisecond: most of Intake's calls end there.
const Histogram::BucketBoundaries kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

std::string StreamType(const google::protobuf::MethodDescriptor& method) {
  if (method.client_streaming() && method.server_streaming()) return "bidi_stream";
  if (method.client_streaming()) return "client_stream";
  if (method.server_streaming()) return "server_stream";
  return "unary";
}

// Records the gRPC families for one call. Created by gRPC for each call, deleted with it.
class CallInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit CallInterceptor(const Metrics::MethodSeries& series) : series_(series) {
    series_.started->Increment();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      series_.msg_received->Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      series_.msg_sent->Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const int code = methods->GetSendStatus().error_code();
      series_.handled[code >= 0 && code < 17 ? code : 2]->Increment();
      series_.handling_seconds->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    }
    methods->Proceed();
  }

 private:
  const Metrics::MethodSeries& series_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

class InterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit InterceptorFactory(const Metrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallInterceptor(metrics_.ForMethod(info->method()));
  }

 private:
  const Metrics& metrics_;
};

std::string RoutingLabel(RoutingReason reason) {
  switch (reason) {
    case RoutingReason::kListingOwner:
      return "listing_owner";
    case RoutingReason::kRotation:
      return "rotation";
    case RoutingReason::kNoEligibleProvider:
      return "no_eligible_provider";
    case RoutingReason::kManual:
      return "manual";
    case RoutingReason::kListingOwnerPaused:
      return "listing_owner_paused";
  }
  return "unknown";
}

}  // namespace

Metrics::Metrics(prometheus::Registry& registry)
    : started_(BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("Total number of RPCs started on the server.")
                   .Register(registry)),
      handled_(BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("Total number of RPCs completed on the server, regardless of success "
                         "or failure.")
                   .Register(registry)),
      msg_received_(BuildCounter()
                        .Name("grpc_server_msg_received_total")
                        .Help("Total number of RPC stream messages received on the server.")
                        .Register(registry)),
      msg_sent_(BuildCounter()
                    .Name("grpc_server_msg_sent_total")
                    .Help("Total number of gRPC stream messages sent by the server.")
                    .Register(registry)),
      handling_seconds_(BuildHistogram()
                            .Name("grpc_server_handling_seconds")
                            .Help("Histogram of response latency (seconds) of gRPC that had "
                                  "been application-level handled by the server.")
                            .Register(registry)),
      unknown_method_(NewSeries("unknown", "unknown", "unknown")),
      submissions_(BuildCounter()
                       .Name("intake_submissions_total")
                       .Help("SubmitCallback calls that passed authentication, by outcome: lead, "
                             "duplicate, bot, replay (a repeated request_id), invalid, "
                             "rate_limited, shed (UNAVAILABLE: too many were waiting for the "
                             "database, --max_pending_submissions), failed.")
                       .Register(registry)),
      lead_(Outcome("lead")),
      duplicate_(Outcome("duplicate")),
      bot_(Outcome("bot")),
      replay_(Outcome("replay")),
      invalid_(Outcome("invalid")),
      rate_limited_(Outcome("rate_limited")),
      shed_(Outcome("shed")),
      failed_(Outcome("failed")),
      invalid_fields_(BuildCounter()
                          .Name("intake_invalid_submission_fields_total")
                          .Help("Fields named in INVALID_ARGUMENT refusals of SubmitCallback.")
                          .Register(registry)),
      leads_(BuildCounter()
                 .Name("intake_leads_total")
                 .Help("Leads created, by how they were routed.")
                 .Register(registry)),
      batch_writes_(
          BuildHistogram()
              .Name("intake_writer_batch_writes")
              .Help("Writes committed together in one transaction by the group "
                    "commit.")
              .Register(registry)
              .Add({}, Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256, 512})),
      commit_seconds_(BuildHistogram()
                          .Name("intake_writer_commit_seconds")
                          .Help("Time of one group commit from BEGIN to the end of COMMIT, its "
                                "fsync included.")
                          .Register(registry)
                          .Add({}, kLatencyBuckets)),
      failed_batches_(BuildCounter()
                          .Name("intake_writer_failed_batches_total")
                          .Help("Group commits that failed: none of their writes was stored.")
                          .Register(registry)
                          .Add({})),
      wal_frames_(BuildGauge()
                      .Name("intake_wal_frames")
                      .Help("Frames (pages) in the SQLite write-ahead log after the last commit.")
                      .Register(registry)
                      .Add({})),
      checkpoint_seconds_(BuildHistogram()
                              .Name("intake_checkpoint_seconds")
                              .Help("Time of one WAL checkpoint by the writer.")
                              .Register(registry)
                              .Add({}, kLatencyBuckets)),
      failed_checkpoints_(BuildCounter()
                              .Name("intake_checkpoint_failures_total")
                              .Help("WAL checkpoints that failed (the WAL keeps the data).")
                              .Register(registry)
                              .Add({})) {
  for (const char* service : kServices) AddService(service);
  for (RoutingReason reason :
       {RoutingReason::kListingOwner, RoutingReason::kRotation, RoutingReason::kNoEligibleProvider,
        RoutingReason::kManual, RoutingReason::kListingOwnerPaused}) {
    leads_by_routing_[static_cast<int>(reason)] = &leads_.Add({{"routing", RoutingLabel(reason)}});
  }
  auto& stream_messages = BuildCounter()
                              .Name("intake_stream_messages_total")
                              .Help(
                                  "Messages written on lead streams (SubscribeLeads, "
                                  "WatchLeads), by event type; heartbeat included.")
                              .Register(registry);
  const google::protobuf::EnumDescriptor* types = v1::LeadEventType_descriptor();
  for (int i = 0; i < types->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* value = types->value(i);
    if (value->number() <= 0) continue;  // UNSPECIFIED is never sent.
    if (static_cast<size_t>(value->number()) >= stream_messages_.size()) {
      stream_messages_.resize(value->number() + 1, nullptr);
    }
    stream_messages_[value->number()] = &stream_messages.Add(
        {{"type", absl::AsciiStrToLower(absl::StripPrefix(value->name(), "LEAD_EVENT_TYPE_"))}});
  }
}

Counter& Metrics::Outcome(const std::string& outcome) {
  return submissions_.Add({{"outcome", outcome}});
}

Metrics::MethodSeries Metrics::NewSeries(const std::string& service, const std::string& method,
                                         const std::string& type) {
  const prometheus::Labels labels = {
      {"grpc_service", service}, {"grpc_method", method}, {"grpc_type", type}};
  MethodSeries series{&started_.Add(labels),
                      &msg_received_.Add(labels),
                      &msg_sent_.Add(labels),
                      &handling_seconds_.Add(labels, kLatencyBuckets),
                      {}};
  for (int code = 0; code < 17; ++code) {
    prometheus::Labels with_code = labels;
    with_code["grpc_code"] = kCodeNames[code];
    series.handled[code] = &handled_.Add(with_code);
  }
  return series;
}

void Metrics::AddService(absl::string_view service_name) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(service_name));
  if (service == nullptr) return;  // Not linked into this binary: not served either.
  for (int i = 0; i < service->method_count(); ++i) {
    const google::protobuf::MethodDescriptor& method = *service->method(i);
    methods_.emplace(absl::StrCat("/", service->full_name(), "/", method.name()),
                     NewSeries(service->full_name(), method.name(), StreamType(method)));
  }
}

const Metrics::MethodSeries& Metrics::ForMethod(absl::string_view method) const {
  auto it = methods_.find(method);
  return it == methods_.end() ? unknown_method_ : it->second;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
Metrics::NewInterceptorFactory() {
  return std::make_unique<InterceptorFactory>(*this);
}

void Metrics::CountSubmission(const SubmitResult& result) {
  switch (result.outcome) {
    case SubmissionOutcome::kNewLead:
      lead_.Increment();
      if (result.routing) {
        auto it = leads_by_routing_.find(static_cast<int>(*result.routing));
        if (it != leads_by_routing_.end()) it->second->Increment();
      }
      return;
    case SubmissionOutcome::kMerged:
      duplicate_.Increment();
      return;
    case SubmissionOutcome::kBot:
      bot_.Increment();
      return;
    case SubmissionOutcome::kReplayed:
      replay_.Increment();
      return;
  }
}

void Metrics::CountRefusedSubmission(const absl::Status& status, const FieldViolations& fields) {
  if (absl::IsInvalidArgument(status)) {
    invalid_.Increment();
    for (const FieldViolation& v : fields) {
      // The validator's own field paths, never input: a bounded set of series.
      const absl::string_view field = absl::string_view(v.field).substr(0, v.field.find('['));
      invalid_fields_.Add({{"field", std::string(field)}}).Increment();
    }
  } else if (absl::IsResourceExhausted(status)) {
    rate_limited_.Increment();
  } else {
    failed_.Increment();
  }
}

void Metrics::CountStreamMessage(int type) {
  if (type > 0 && static_cast<size_t>(type) < stream_messages_.size() &&
      stream_messages_[type] != nullptr) {
    stream_messages_[type]->Increment();
  }
}

void Metrics::OnBatch(size_t writes, absl::Duration duration, bool committed, int wal_frames) {
  batch_writes_.Observe(static_cast<double>(writes));
  commit_seconds_.Observe(absl::ToDoubleSeconds(duration));
  if (!committed) failed_batches_.Increment();
  wal_frames_.Set(wal_frames);
}

void Metrics::OnCheckpoint(absl::Duration duration, bool ok) {
  checkpoint_seconds_.Observe(absl::ToDoubleSeconds(duration));
  if (!ok) failed_checkpoints_.Increment();
}

}  // namespace intake::api
