// The HTTP endpoint Prometheus scrapes (prometheus-cpp's Exposer): GET /metrics in the text
// exposition format.
#ifndef INTAKE_SERVER_API_METRICS_ENDPOINT_H_
#define INTAKE_SERVER_API_METRICS_ENDPOINT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"

namespace intake::api {

class MetricsEndpoint {
 public:
  // Listens on `address` (host:port; port 0 picks one) and serves `collectables` (kept
  // alive by the endpoint). kUnavailable naming --metrics_listen if it cannot listen.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address,
      const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables);

  // host:port with the real port.
  const std::string& address() const { return address_; }

 private:
  MetricsEndpoint() = default;

  // The exposer holds weak pointers only. Declared first: destroyed after the exposer.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string address_;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_METRICS_ENDPOINT_H_
