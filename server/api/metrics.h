// Intake's Prometheus metrics (prometheus-cpp): the gRPC server families under the names of
// go-grpc-prometheus, recorded per call by a server interceptor; what the intake path and the
// lead streams count; the writer's batches and checkpoints. Figures read at scrape time (the
// database, open streams, the process) come from StateCollector.
//
// Recording is a few atomic adds on pointers resolved when the server starts: no lock of
// Intake's, no map of labels on any call's path. Labels never carry personal data: methods,
// status codes, outcomes, field names, routing reasons, event types (and, in StateCollector,
// provider ids).
#ifndef INTAKE_SERVER_API_METRICS_H_
#define INTAKE_SERVER_API_METRICS_H_

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/domain/field_violation.h"
#include "server/domain/lead.h"
#include "server/store/group_commit_writer.h"

namespace intake::api {

class Metrics final : public store::WriterObserver {
 public:
  // The series of one gRPC method, resolved once.
  struct MethodSeries {
    prometheus::Counter* started;
    prometheus::Counter* msg_received;
    prometheus::Counter* msg_sent;
    prometheus::Histogram* handling_seconds;
    std::array<prometheus::Counter*, 17> handled;  // By grpc::StatusCode.
  };

  // Registers every family in `registry`, which must outlive this. Each method of the services
  // intaked serves (Intake's, health, reflection) gets its series at zero, every status code
  // included, as go-grpc-prometheus does; calls to any other method count under
  // grpc_service="unknown", so a client cannot create series.
  explicit Metrics(prometheus::Registry& registry);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // A factory of interceptors recording the gRPC families for every call on the server it is
  // given to (ServerBuilder::experimental().SetInterceptorCreators). Each server needs its own.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewInterceptorFactory();

  // The series of `method` ("/package.Service/Method"). Thread-safe.
  const MethodSeries& ForMethod(absl::string_view method) const;

  // A SubmitCallback the store answered OK: its outcome, and for a new lead how it was routed.
  void CountSubmission(const SubmitResult& result);
  // A refused SubmitCallback: kInvalidArgument counts as "invalid" (and each field in
  // `fields`, indexes dropped: consent.advertisers[3] is consent.advertisers),
  // kResourceExhausted as "rate_limited", anything else as "failed".
  void CountRefusedSubmission(const absl::Status& status, const FieldViolations& fields);
  // A valid SubmitCallback shed because too many were waiting for the database.
  void CountShedSubmission() { shed_.Increment(); }
  // A message written on a lead stream; `type` is its v1::LeadEventType.
  void CountStreamMessage(int type);

  // store::WriterObserver, on the writer thread.
  void OnBatch(size_t writes, absl::Duration duration, bool committed, int wal_frames) override;
  void OnCheckpoint(absl::Duration duration, bool ok) override;

 private:
  void AddService(absl::string_view service_name);
  MethodSeries NewSeries(const std::string& service, const std::string& method,
                         const std::string& type);
  prometheus::Counter& Outcome(const std::string& outcome);

  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Counter>& msg_received_;
  prometheus::Family<prometheus::Counter>& msg_sent_;
  prometheus::Family<prometheus::Histogram>& handling_seconds_;
  // Written only in the constructor.
  absl::flat_hash_map<std::string, MethodSeries> methods_;
  MethodSeries unknown_method_;

  prometheus::Family<prometheus::Counter>& submissions_;
  prometheus::Counter& lead_;
  prometheus::Counter& duplicate_;
  prometheus::Counter& bot_;
  prometheus::Counter& replay_;
  prometheus::Counter& invalid_;
  prometheus::Counter& rate_limited_;
  prometheus::Counter& shed_;
  prometheus::Counter& failed_;
  prometheus::Family<prometheus::Counter>& invalid_fields_;
  prometheus::Family<prometheus::Counter>& leads_;
  absl::flat_hash_map<int, prometheus::Counter*> leads_by_routing_;  // By RoutingReason.
  std::vector<prometheus::Counter*> stream_messages_;  // By v1::LeadEventType; null: none.

  prometheus::Histogram& batch_writes_;
  prometheus::Histogram& commit_seconds_;
  prometheus::Counter& failed_batches_;
  prometheus::Gauge& wal_frames_;
  prometheus::Histogram& checkpoint_seconds_;
  prometheus::Counter& failed_checkpoints_;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_METRICS_H_
