#include "client/bench/lead_subscriber.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace intake::bench {

LeadSubscriber::LeadSubscriber(EventHandler on_event) : on_event_(std::move(on_event)) {}

LeadSubscriber::~LeadSubscriber() {
  if (!started_) return;
  context_.TryCancel();
  done_.WaitForNotification();
}

void LeadSubscriber::Start(v1::ProviderService::Stub* stub, absl::string_view token,
                           uint64_t after_sequence) {
  started_ = true;
  context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  request_.set_after_sequence(after_sequence);
  stub->async()->SubscribeLeads(&context_, &request_, this);
  StartRead(&response_);
  StartCall();
}

grpc::Status LeadSubscriber::Stop() {
  const bool was_open = !done_.HasBeenNotified();
  context_.TryCancel();
  done_.WaitForNotification();
  return was_open ? grpc::Status::OK : status_;
}

void LeadSubscriber::OnReadDone(bool ok) {
  const Clock::time_point read = Clock::now();
  // Not ok: the stream has ended, and OnDone follows with its status.
  if (!ok) return;
  if (response_.type() != v1::LEAD_EVENT_TYPE_HEARTBEAT) on_event_(response_, read);
  StartRead(&response_);
}

void LeadSubscriber::OnDone(const grpc::Status& status) {
  status_ = status;
  done_.Notify();
}

}  // namespace intake::bench
