#include "server/api/lead_stream.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "intake/v1/admin_service.pb.h"
#include "intake/v1/provider_service.pb.h"
#include "server/api/convert.h"

namespace intake::api {
namespace {

void Fill(const store::EventWithLead& item, v1::SubscribeLeadsResponse* out) {
  out->set_sequence(item.event.sequence);
  out->set_type(ToProto(item.event.type));
  if (item.lead) ToProviderProto(*item.lead, out->mutable_lead());
}

void Fill(const store::EventWithLead& item, v1::WatchLeadsResponse* out) {
  out->set_sequence(item.event.sequence);
  out->set_type(ToProto(item.event.type));
  out->set_provider_id(item.event.provider_id);
  if (item.lead) ToProto(*item.lead, out->mutable_lead());
}

template <typename Response>
Response Heartbeat(uint64_t head, const std::string& instance_id) {
  Response heartbeat;
  heartbeat.set_type(v1::LEAD_EVENT_TYPE_HEARTBEAT);
  heartbeat.set_head_sequence(head);
  heartbeat.set_instance_id(instance_id);
  return heartbeat;
}

grpc::Status DrainingStatus() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      "the server is shutting down; reconnect with your last sequence");
}

grpc::Status RevokedStatus() {
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "the token was revoked");
}

}  // namespace

grpc::Status StreamRegistry::Add(EndableStream* stream, const std::string& token_hash) {
  absl::MutexLock lock(&mu_);
  if (draining_) return DrainingStatus();
  if (!token_hash.empty() && revoked_.contains(token_hash)) return RevokedStatus();
  int& open = per_token_[token_hash];
  if (max_per_token_ > 0 && open >= max_per_token_) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        absl::StrCat("this token already has ", open,
                                     " lead streams open, the most allowed; close one first"));
  }
  ++open;
  streams_.emplace(stream, token_hash);
  return grpc::Status::OK;
}

void StreamRegistry::Remove(EndableStream* stream) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  if (--per_token_[it->second] == 0) per_token_.erase(it->second);
  streams_.erase(it);
}

void StreamRegistry::DrainAll() {
  // Holding the lock keeps every stream alive (their OnDone must Remove first).
  absl::MutexLock lock(&mu_);
  draining_ = true;
  for (auto& [stream, token_hash] : streams_) stream->End(DrainingStatus());
}

void StreamRegistry::Revoke(const std::string& token_hash) {
  if (token_hash.empty()) return;  // The admin token is not revoked this way.
  absl::MutexLock lock(&mu_);
  revoked_.insert(token_hash);
  for (auto& [stream, hash] : streams_) {
    if (hash == token_hash) stream->End(RevokedStatus());
  }
}

size_t StreamRegistry::size() const {
  absl::MutexLock lock(&mu_);
  return streams_.size();
}

template <typename Response>
LeadStream<Response>::LeadStream(const LeadStreamContext& context, std::string provider_id,
                                 const std::string& token_hash, std::string token_id,
                                 uint64_t after)
    : context_(context),
      provider_id_(std::move(provider_id)),
      token_id_(std::move(token_id)),
      topic_(provider_id_.empty() ? std::string(stream::SubscriberHub::kAllEvents) : provider_id_),
      cursor_(after) {
  context_.store->AddLiveReader();
  grpc::Status registered = context_.registry->Add(this, token_hash);
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    ++outstanding_;  // Released by Act.
    if (!registered.ok()) {
      FinishLocked(std::move(registered), actions);
    } else if (!finish_) {  // A drain may have ended it between Add and here.
      ArmHeartbeat();
      Advance(actions);
    }
  }
  Act(actions);
}

template <typename Response>
LeadStream<Response>::~LeadStream() {
  context_.store->RemoveLiveReader();
}

template <typename Response>
void LeadStream<Response>::Advance(Actions& actions) {
  if (finish_) {
    if (!writing_ && !finish_sent_) {
      finish_sent_ = true;
      actions.finish = *finish_;
    }
    return;
  }
  if (writing_) return;
  if (!pending_.empty()) {
    in_flight_ = std::move(pending_.front());
    pending_.pop_front();
    writing_ = true;
    actions.write = &in_flight_;
    return;
  }
  if (reading_ || wait_id_ != 0) return;
  if (more_to_read_) {
    if (TakeRecent()) {
      Advance(actions);  // At most once more: what it took is pending, or it is caught up.
    } else {
      StartRead();
    }
    return;
  }
  // Caught up: sleep until the log has events for this stream beyond the cursor. The wakeup
  // runs on the committing thread, just after the store kept the new events in memory: it
  // takes them from there and starts the write, without a hop to another thread.
  ++outstanding_;
  std::optional<stream::SubscriberHub::WaitId> wait =
      context_.hub->WaitBeyondLater(cursor_, topic_, [this] { OnWake(); });
  if (wait) {
    wait_id_ = *wait;
    return;
  }
  // A commit came between the read and the wait: read again, from the disk this time, so
  // that this never spins.
  --outstanding_;
  more_to_read_ = true;
  StartRead();
}

template <typename Response>
bool LeadStream<Response>::TakeRecent() {
  // Only up to the hub's head: the writer keeps events an instant before it tells the hub,
  // and a client that resumed from a sequence beyond the head would get OUT_OF_RANGE.
  std::optional<store::RecentRead> read = context_.store->ReadRecentEvents(
      cursor_, provider_id_, context_.page_size, context_.hub->head());
  if (!read) return false;
  cursor_checked_ = true;  // Memory held it: it is not beyond the newest event.
  for (const store::EventWithLead& item : read->events) Fill(item, &pending_.emplace_back());
  cursor_ = std::max(cursor_, read->through);
  more_to_read_ = static_cast<int>(read->events.size()) == context_.page_size;
  return true;
}

template <typename Response>
void LeadStream<Response>::StartRead() {
  reading_ = true;
  ++outstanding_;
  context_.executor->Run([this] { ReadPage(); });
}

template <typename Response>
void LeadStream<Response>::ReadPage() {
  uint64_t cursor;
  bool check_cursor;
  {
    absl::MutexLock lock(&mu_);
    cursor = cursor_;
    check_cursor = !std::exchange(cursor_checked_, true);
  }
  // Every event up to `head` is committed, so a read that comes back short has seen them all.
  const uint64_t head = context_.hub->head();
  // A cursor beyond the head this process knows may come from another replica on the same
  // database whose commit has not been notified here yet: the database has the last word.
  absl::StatusOr<uint64_t> newest = head;
  if (check_cursor && cursor > head) newest = context_.store->CommittedHeadSequence();
  absl::StatusOr<std::vector<store::EventWithLead>> events =
      newest.ok() && cursor <= *newest
          ? context_.store->ReadEvents(cursor, provider_id_, context_.page_size)
          : absl::StatusOr<std::vector<store::EventWithLead>>(std::vector<store::EventWithLead>());
  Actions actions;
  {
    absl::MutexLock lock(&mu_);  // The read's count now guards Act.
    reading_ = false;
    if (!done_ && !finish_) {
      if (newest.ok() && cursor > *newest) {
        FinishLocked(grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                                  "after_sequence is beyond the newest event"),
                     actions);
      } else if (!newest.ok() || !events.ok()) {
        FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                  "reading events failed; reconnect with your last sequence"),
                     actions);
      } else {
        for (const store::EventWithLead& item : *events) {
          Fill(item, &pending_.emplace_back());
          cursor_ = item.event.sequence;
        }
        more_to_read_ = static_cast<int>(events->size()) == context_.page_size;
        if (!more_to_read_) cursor_ = std::max(cursor_, head);
        Advance(actions);
      }
    }
  }
  Act(actions);
}

template <typename Response>
void LeadStream<Response>::OnWake() {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);  // The wait's count now guards Act.
    wait_id_ = 0;
    more_to_read_ = true;
    if (!done_) Advance(actions);
  }
  Act(actions);
}

template <typename Response>
void LeadStream<Response>::OnHeartbeat(bool fired) {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);  // The alarm's count now guards Act.
    if (!done_ && !finish_) {
      if (fired && !writing_ && pending_.empty()) {
        pending_.push_back(
            Heartbeat<Response>(context_.hub->head(), context_.store->instance_id()));
      }
      ArmHeartbeat();
      Advance(actions);
    }
  }
  Act(actions);
}

template <typename Response>
void LeadStream<Response>::ArmHeartbeat() {
  ++outstanding_;
  heartbeat_.Set(absl::ToChronoTime(absl::Now() + context_.heartbeat_interval),
                 [this](bool fired) { OnHeartbeat(fired); });
}

template <typename Response>
void LeadStream<Response>::OnWriteDone(bool ok) {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    ++outstanding_;  // Released by Act.
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"), actions);
    }
    Advance(actions);
  }
  Act(actions);
}

template <typename Response>
void LeadStream<Response>::OnCancel() {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    ++outstanding_;  // Released by Act.
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"), actions);
  }
  Act(actions);
}

template <typename Response>
void LeadStream<Response>::End(grpc::Status status) {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    ++outstanding_;  // Released by Act.
    FinishLocked(std::move(status), actions);
  }
  Act(actions);
}

template <typename Response>
void LeadStream<Response>::FinishLocked(grpc::Status status, Actions& actions) {
  if (finish_) return;
  finish_ = std::move(status);
  pending_.clear();
  if (wait_id_ != 0 && context_.hub->Cancel(wait_id_)) --outstanding_;
  wait_id_ = 0;
  actions.cancel_heartbeat = true;
  Advance(actions);
}

template <typename Response>
void LeadStream<Response>::OnDone() {
  context_.registry->Remove(this);
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    ++outstanding_;  // Released by Act.
    done_ = true;
    if (wait_id_ != 0 && context_.hub->Cancel(wait_id_)) --outstanding_;
    wait_id_ = 0;
    actions.cancel_heartbeat = true;  // Its callback, or a read in flight, may delete this.
  }
  Act(actions);
}

template <typename Response>
void LeadStream<Response>::Act(const Actions& actions) {
  // The caller's count on outstanding_ keeps this alive until the end.
  if (actions.cancel_heartbeat) heartbeat_.Cancel();
  if (actions.write != nullptr) {
    if (context_.metrics != nullptr) context_.metrics->CountStreamMessage(actions.write->type());
    // Admin watchers (no provider) are ops, not a disclosure.
    if (!provider_id_.empty() && CarriesPersonalData(actions.write->lead())) {
      context_.store->RecordDisclosure(actions.write->lead().lead_id(), provider_id_, token_id_,
                                       DisclosureChannel::kStream);
    }
    this->StartWrite(actions.write);
  }
  if (actions.finish) this->Finish(*actions.finish);
  bool deletable;
  {
    absl::MutexLock lock(&mu_);
    --outstanding_;
    deletable = done_ && outstanding_ == 0;
  }
  if (deletable) delete this;
}

template class LeadStream<v1::SubscribeLeadsResponse>;
template class LeadStream<v1::WatchLeadsResponse>;

}  // namespace intake::api
