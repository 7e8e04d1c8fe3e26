#include "server/api/metrics_endpoint.h"

#include <exception>

#include "absl/strings/str_cat.h"

namespace intake::api {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address,
    const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables) {
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  const size_t colon = address.rfind(':');
  std::vector<int> ports;
  try {
    // One thread: scrapes come every few seconds, one at a time.
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/1);
    ports = endpoint->exposer_->GetListeningPorts();
  } catch (const std::exception&) {
    // CivetServer throws when it cannot bind; its message says nothing more than this.
  }
  if (endpoint->exposer_ == nullptr || ports.empty() || colon == std::string::npos) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", address,
                     " (--metrics_listen): the address is in use or not valid here"));
  }
  endpoint->collectables_ = collectables;
  for (const auto& collectable : collectables) endpoint->exposer_->RegisterCollectable(collectable);
  endpoint->address_ = absl::StrCat(address.substr(0, colon + 1), ports.front());
  return endpoint;
}

}  // namespace intake::api
