// providers create|get|list|update|pause|resume: AdminService's provider RPCs.
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "client/intakectl/command.h"
#include "client/intakectl/enum_labels.h"
#include "client/intakectl/hours.h"
#include "client/intakectl/output.h"
#include "client/intakectl/unary_call.h"
#include "intake/v1/admin_service.grpc.pb.h"

namespace intake::ctl {
namespace {

using v1::AdminService;

constexpr FlagSpec kIdFlag = {"id", "ID", "the provider's id (required)"};

// The flags that set a provider's fields, shared by create and update, with the update_mask
// path each one sets.
struct FieldFlag {
  FlagSpec spec;
  const char* path;
};
const std::vector<FieldFlag>& FieldFlags() {
  static const auto* const flags = new std::vector<FieldFlag>{
      {{"name", "TEXT", "display name, 1 to 200 characters"}, "display_name"},
      {{"regions", "LIST", "states served, e.g. FL,GA; \"all\" or empty for nationwide"},
       "regions"},
      {{"daily_cap", "N", "most leads per local day; 0 for no cap"}, "daily_cap"},
      {{"time_zone", "ZONE", "IANA time zone (default America/New_York)"}, "time_zone"},
      {{"hours", "HOURS",
        "opening hours, e.g. mon-fri@09:00-17:00,sat@10:00-14:00; \"always\" (default)"},
       "hours"},
  };
  return *flags;
}

std::vector<FlagSpec> IdAndFieldFlags() {
  std::vector<FlagSpec> flags = {kIdFlag};
  for (const FieldFlag& f : FieldFlags()) flags.push_back(f.spec);
  return flags;
}

std::string Regions(const v1::Provider& p) {
  return p.regions().empty() ? "all" : absl::StrJoin(p.regions(), ",");
}

std::string Cap(const v1::Provider& p) {
  return p.daily_cap() == 0 ? "none" : std::to_string(p.daily_cap());
}

std::string State(const v1::Provider& p) {
  return EnumLabel(v1::ProviderState_descriptor(), p.state());
}

void PrintProvider(const v1::Provider& p) {
  PrintRecord({{"id", p.provider_id()},
               {"name", p.display_name()},
               {"state", State(p)},
               {"regions", Regions(p)},
               {"daily cap", Cap(p)},
               {"time zone", p.time_zone()},
               {"hours", FormatHours(p.hours())},
               {"created", FormatTimestamp(p.create_time())},
               {"updated", FormatTimestamp(p.update_time())}},
              std::cout);
}

// Reads the field flags into *provider and names the ones given in *paths. The time zone is
// left to the server, whose tz database is the one routing uses.
bool ReadFields(const FlagValues& flags, v1::Provider* provider, std::vector<std::string>* paths) {
  std::string name;
  std::vector<std::string> regions;
  uint32_t cap = 0;
  std::vector<v1::OpeningPeriod> hours;
  if (!flags.DisplayName("name", /*required=*/false, &name) ||
      !flags.Regions("regions", &regions) || !flags.Uint32("daily_cap", &cap)) {
    return false;
  }
  std::string problem;
  if (flags.Has("hours") && !ParseHours(flags.Get("hours"), &hours, &problem)) {
    return UsageError("--hours: " + problem);
  }
  if (flags.Has("time_zone") && flags.Get("time_zone").empty()) {
    return UsageError("--time_zone: must not be empty");
  }
  provider->set_display_name(name);
  *provider->mutable_regions() = {regions.begin(), regions.end()};
  provider->set_daily_cap(cap);
  provider->set_time_zone(flags.Get("time_zone"));
  *provider->mutable_hours() = {hours.begin(), hours.end()};
  for (const FieldFlag& f : FieldFlags()) {
    if (flags.Has(f.spec.name)) paths->push_back(f.path);
  }
  return true;
}

int UpdateFields(const Invocation& run, const v1::Provider& provider,
                 const std::vector<std::string>& paths) {
  v1::UpdateProviderRequest request;
  *request.mutable_provider() = provider;
  for (const std::string& path : paths) request.mutable_update_mask()->add_paths(path);
  return RunAdmin(run, &AdminService::Stub::UpdateProvider, request,
                  [](const v1::UpdateProviderResponse& r) { PrintProvider(r.provider()); });
}

int CreateProvider(const Invocation& run) {
  std::string id;
  v1::Provider fields;
  std::vector<std::string> paths;
  if (!run.flags.Id("id", /*required=*/true, &id) || !ReadFields(run.flags, &fields, &paths)) {
    return kExitUsage;
  }
  if (!run.flags.Has("name")) {
    UsageError("--name: is required");
    return kExitUsage;
  }
  v1::CreateProviderRequest request;
  request.set_provider_id(id);
  request.set_display_name(fields.display_name());
  *request.mutable_regions() = fields.regions();
  request.set_daily_cap(fields.daily_cap());
  request.set_time_zone(fields.time_zone());
  *request.mutable_hours() = fields.hours();
  if (run.flags.Bool("paused")) request.set_state(v1::PROVIDER_STATE_PAUSED);
  return RunAdmin(run, &AdminService::Stub::CreateProvider, request,
                  [](const v1::CreateProviderResponse& r) { PrintProvider(r.provider()); });
}

int GetProvider(const Invocation& run) {
  v1::GetProviderRequest request;
  if (!run.flags.Id("id", /*required=*/true, request.mutable_provider_id())) return kExitUsage;
  return RunAdmin(run, &AdminService::Stub::GetProvider, request,
                  [](const v1::GetProviderResponse& r) { PrintProvider(r.provider()); });
}

int ListProviders(const Invocation& run) {
  const std::optional<Connection> connection =
      Connection::Open(run.global, Listener::kAdmin, Credential::kAdminToken);
  if (!connection) return kExitUsage;
  // Every page, gathered into one response: there are tens of providers, not millions.
  v1::ListProvidersResponse all;
  v1::ListProvidersRequest request;
  do {
    v1::ListProvidersResponse page;
    const grpc::Status status =
        CallUnary(*connection, &AdminService::Stub::ListProviders, request, &page);
    if (!status.ok()) return ReportRpcError(status, connection->address());
    for (v1::Provider& p : *page.mutable_providers()) *all.add_providers() = std::move(p);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());

  if (run.json()) {
    PrintJson(all);
    return kExitOk;
  }
  Table table({"ID", "NAME", "STATE", "REGIONS", "DAILY CAP", "TIME ZONE", "HOURS"});
  for (const v1::Provider& p : all.providers()) {
    table.AddRow({p.provider_id(), p.display_name(), State(p), Regions(p), Cap(p), p.time_zone(),
                  FormatHours(p.hours())});
  }
  table.Print(std::cout);
  return kExitOk;
}

int UpdateProvider(const Invocation& run) {
  v1::Provider provider;
  std::vector<std::string> paths;
  if (!run.flags.Id("id", /*required=*/true, provider.mutable_provider_id()) ||
      !ReadFields(run.flags, &provider, &paths)) {
    return kExitUsage;
  }
  if (paths.empty()) {
    UsageError(
        "nothing to change: give at least one of --name, --regions, --daily_cap, "
        "--time_zone, --hours");
    return kExitUsage;
  }
  return UpdateFields(run, provider, paths);
}

int SetState(const Invocation& run, v1::ProviderState state) {
  v1::Provider provider;
  if (!run.flags.Id("id", /*required=*/true, provider.mutable_provider_id())) return kExitUsage;
  provider.set_state(state);
  return UpdateFields(run, provider, {"state"});
}

int PauseProvider(const Invocation& run) { return SetState(run, v1::PROVIDER_STATE_PAUSED); }
int ResumeProvider(const Invocation& run) { return SetState(run, v1::PROVIDER_STATE_ACTIVE); }

}  // namespace

std::vector<Command> ProviderCommands() {
  std::vector<FlagSpec> create_flags = IdAndFieldFlags();
  create_flags[1].help = "display name, 1 to 200 characters (required)";
  create_flags.push_back({"paused", "", "create it PAUSED: no leads until resumed"});
  return {
      {"providers", "create", "Create a provider.",
       "intakectl providers create --id=acme --name=\"Acme Recovery\" --regions=FL,GA "
       "--daily_cap=20 --time_zone=America/New_York --hours=mon-fri@08:00-20:00",
       create_flags, CreateProvider},
      {"providers",
       "get",
       "Show one provider.",
       "intakectl providers get --id=acme",
       {kIdFlag},
       GetProvider},
      {"providers",
       "list",
       "List every provider.",
       "intakectl providers list --output=json",
       {},
       ListProviders},
      {"providers", "update", "Change a provider's fields; only the flags given change.",
       "intakectl providers update --id=acme --daily_cap=40 --regions=FL,GA,AL", IdAndFieldFlags(),
       UpdateProvider},
      {"providers",
       "pause",
       "Pause a provider: no new leads; its listings' leads go through rotation.",
       "intakectl providers pause --id=acme",
       {kIdFlag},
       PauseProvider},
      {"providers",
       "resume",
       "Resume a paused provider.",
       "intakectl providers resume --id=acme",
       {kIdFlag},
       ResumeProvider},
  };
}

}  // namespace intake::ctl
