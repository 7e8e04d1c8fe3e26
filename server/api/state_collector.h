// Metrics read when Prometheus scrapes, from what already keeps them: the database
// (Store::Gauges), the open lead streams, and this process (/proc).
#ifndef INTAKE_SERVER_API_STATE_COLLECTOR_H_
#define INTAKE_SERVER_API_STATE_COLLECTOR_H_

#include <cstddef>
#include <functional>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "server/domain/clock.h"
#include "server/store/storage.h"

namespace intake::api {

class StateCollector final : public prometheus::Collectable {
 public:
  // `open_streams` counts the live lead streams. `store` and `clock` must outlive this.
  StateCollector(store::Storage* store, std::function<size_t()> open_streams, const Clock* clock)
      : store_(*store), open_streams_(std::move(open_streams)), clock_(*clock) {}

  // Runs on the metrics server's thread for each scrape and may block there on SQLite (two
  // index look-ups), never on a gRPC thread. If the database cannot be read, its families
  // are left out of that scrape (Prometheus then shows them absent, which alerts can catch).
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  store::Storage& store_;
  const std::function<size_t()> open_streams_;
  const Clock& clock_;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_STATE_COLLECTOR_H_
