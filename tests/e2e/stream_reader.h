// Reading a provider's lead stream in end-to-end tests: up to a number of events, then
// disconnect.
#ifndef INTAKE_TESTS_E2E_STREAM_READER_H_
#define INTAKE_TESTS_E2E_STREAM_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "intake/v1/provider_service.grpc.pb.h"
#include "tests/e2e/rpc_helpers.h"

namespace intake::testing {

// What Subscribe read: the events and heartbeats, and the stream's final status.
struct StreamRead {
  std::vector<v1::SubscribeLeadsResponse> events;
  std::vector<v1::SubscribeLeadsResponse> heartbeats;
  grpc::Status status;
};

// Reads up to `max` non-heartbeat messages of SubscribeLeads from `after` with `token` (or
// until the stream ends or `timeout`), then cancels the stream.
inline StreamRead Subscribe(v1::ProviderService::Stub* stub, const std::string& token,
                            uint64_t after, size_t max,
                            absl::Duration timeout = absl::Seconds(20)) {
  auto context = Context(token, timeout);
  v1::SubscribeLeadsRequest request;
  request.set_after_sequence(after);
  auto reader = stub->SubscribeLeads(context.get(), request);
  StreamRead read;
  v1::SubscribeLeadsResponse message;
  bool open = true;
  while (read.events.size() < max && (open = reader->Read(&message))) {
    (message.type() == v1::LEAD_EVENT_TYPE_HEARTBEAT ? read.heartbeats : read.events)
        .push_back(message);
  }
  if (open) context->TryCancel();  // We stopped reading: disconnect.
  read.status = reader->Finish();
  return read;
}

}  // namespace intake::testing

#endif  // INTAKE_TESTS_E2E_STREAM_READER_H_
