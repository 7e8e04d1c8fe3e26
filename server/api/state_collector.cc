#include "server/api/state_collector.h"

#include <string>
#include <utility>

#include "server/api/process_stats.h"

namespace intake::api {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

void AddValue(MetricFamily& family, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric metric;
  metric.label = std::move(labels);
  if (family.type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
}

MetricFamily Gauge(std::string name, std::string help, double value) {
  MetricFamily family = Family(std::move(name), std::move(help), MetricType::Gauge);
  AddValue(family, value);
  return family;
}

}  // namespace

std::vector<MetricFamily> StateCollector::Collect() const {
  std::vector<MetricFamily> families;
  families.push_back(Gauge("intake_open_streams",
                           "Lead streams open now (SubscribeLeads, WatchLeads).",
                           static_cast<double>(open_streams_())));

  MetricFamily dropped =
      Family("intake_disclosures_dropped_total",
             "Disclosure records not kept because too many were waiting for the database writer.",
             MetricType::Counter);
  AddValue(dropped, static_cast<double>(store_.disclosures_dropped()));
  families.push_back(std::move(dropped));

  if (absl::StatusOr<store::StoreGauges> db = store_.Gauges(); db.ok()) {
    families.push_back(Gauge("intake_unassigned_leads",
                             "Leads no provider was eligible for (UNASSIGNED), waiting for ops.",
                             static_cast<double>(db->unassigned_leads)));
    MetricFamily waiting =
        Family("intake_unacknowledged_leads",
               "Leads assigned to a provider and neither acknowledged nor contacted yet (NEW).",
               MetricType::Gauge);
    MetricFamily oldest = Family("intake_oldest_unacknowledged_lead_age_seconds",
                                 "Age of the provider's oldest lead still NEW.", MetricType::Gauge);
    const absl::Time now = clock_.Now();
    for (const auto& [provider, leads] : db->unacknowledged) {
      AddValue(waiting, static_cast<double>(leads.count), {{"provider", provider}});
      AddValue(oldest, absl::ToDoubleSeconds(now - leads.oldest_create_time),
               {{"provider", provider}});
    }
    families.push_back(std::move(waiting));
    families.push_back(std::move(oldest));
    families.push_back(Gauge("intake_database_size_bytes", "Size of the SQLite database file.",
                             static_cast<double>(db->database_bytes)));
    families.push_back(Gauge("intake_database_wal_size_bytes",
                             "Size of the SQLite write-ahead log file.",
                             static_cast<double>(db->wal_bytes)));
    families.push_back(Gauge("intake_filesystem_size_bytes",
                             "Size of the file system holding the database.",
                             static_cast<double>(db->filesystem_bytes)));
    families.push_back(Gauge("intake_filesystem_free_bytes",
                             "Space left for intaked on the file system holding the database.",
                             static_cast<double>(db->filesystem_free_bytes)));
  }

  if (absl::StatusOr<ProcessStats> process = ReadProcessStats(); process.ok()) {
    MetricFamily cpu =
        Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
               MetricType::Counter);
    AddValue(cpu, process->cpu_seconds);
    families.push_back(std::move(cpu));
    families.push_back(Gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                             static_cast<double>(process->resident_bytes)));
    families.push_back(Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                             static_cast<double>(process->virtual_bytes)));
    families.push_back(Gauge("process_start_time_seconds",
                             "Start time of the process since unix epoch in seconds.",
                             process->start_time_seconds));
    families.push_back(Gauge("process_open_fds", "Number of open file descriptors.",
                             static_cast<double>(process->open_fds)));
    families.push_back(Gauge("process_max_fds", "Maximum number of open file descriptors.",
                             static_cast<double>(process->max_fds)));
  }
  return families;
}

}  // namespace intake::api
