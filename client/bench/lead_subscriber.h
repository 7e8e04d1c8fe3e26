// A provider dashboard as the benchmark plays it: one ProviderService.SubscribeLeads stream,
// read with the callback API, that stamps every event with the moment it was read.
#ifndef INTAKE_CLIENT_BENCH_LEAD_SUBSCRIBER_H_
#define INTAKE_CLIENT_BENCH_LEAD_SUBSCRIBER_H_

#include <chrono>
#include <cstdint>
#include <functional>

#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"
#include "grpcpp/support/status.h"
#include "intake/v1/provider_service.grpc.pb.h"

namespace intake::bench {

class LeadSubscriber final : public grpc::ClientReadReactor<v1::SubscribeLeadsResponse> {
 public:
  using Clock = std::chrono::steady_clock;
  // Called with every event but heartbeats and the time its message was read: from gRPC's
  // callback threads, one call at a time, in stream order. Must not block.
  using EventHandler =
      std::function<void(const v1::SubscribeLeadsResponse& event, Clock::time_point read)>;

  explicit LeadSubscriber(EventHandler on_event);

  // Waits for the stream to end if it was started.
  ~LeadSubscriber() override;
  LeadSubscriber(const LeadSubscriber&) = delete;
  LeadSubscriber& operator=(const LeadSubscriber&) = delete;

  // Opens the stream through `stub` as the provider `token` authenticates, replaying its
  // events with sequence > `after_sequence` before the live ones. Call at most once. `stub`
  // must outlive the stream.
  void Start(v1::ProviderService::Stub* stub, absl::string_view token, uint64_t after_sequence);

  // Ends the stream if it is still open and waits until it has ended. OK when it was still
  // open (this ended it); otherwise the status the stream had ended with, which is why it
  // ended early. Call once, after Start().
  grpc::Status Stop();

  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  const EventHandler on_event_;
  grpc::ClientContext context_;
  v1::SubscribeLeadsRequest request_;
  v1::SubscribeLeadsResponse response_;
  bool started_ = false;
  // Written once, by OnDone, before `done_` is notified.
  grpc::Status status_;
  absl::Notification done_;
};

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_LEAD_SUBSCRIBER_H_
