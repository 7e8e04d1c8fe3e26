// listings create|list: the treatment-center listings whose leads go to their provider.
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "client/intakectl/command.h"
#include "client/intakectl/unary_call.h"
#include "intake/v1/admin_service.grpc.pb.h"

namespace intake::ctl {
namespace {

using v1::AdminService;

int CreateListing(const Invocation& run) {
  v1::CreateListingRequest request;
  if (!run.flags.Id("id", /*required=*/true, request.mutable_listing_id()) ||
      !run.flags.Id("provider", /*required=*/true, request.mutable_provider_id()) ||
      !run.flags.DisplayName("name", /*required=*/true, request.mutable_display_name()) ||
      !run.flags.Region("region", /*required=*/true, request.mutable_region())) {
    return kExitUsage;
  }
  return RunAdmin(run, &AdminService::Stub::CreateListing, request,
                  [](const v1::CreateListingResponse& r) {
                    const v1::Listing& l = r.listing();
                    PrintRecord({{"id", l.listing_id()},
                                 {"provider", l.provider_id()},
                                 {"name", l.display_name()},
                                 {"region", l.region()},
                                 {"created", FormatTimestamp(l.create_time())}},
                                std::cout);
                  });
}

int ListListings(const Invocation& run) {
  v1::ListListingsRequest request;
  if (!run.flags.Id("provider", /*required=*/false, request.mutable_provider_id())) {
    return kExitUsage;
  }
  const std::optional<Connection> connection =
      Connection::Open(run.global, Listener::kAdmin, Credential::kAdminToken);
  if (!connection) return kExitUsage;
  // Every page, gathered into one response, as for providers.
  v1::ListListingsResponse all;
  do {
    v1::ListListingsResponse page;
    const grpc::Status status =
        CallUnary(*connection, &AdminService::Stub::ListListings, request, &page);
    if (!status.ok()) return ReportRpcError(status, connection->address());
    for (v1::Listing& l : *page.mutable_listings()) *all.add_listings() = std::move(l);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());

  if (run.json()) {
    PrintJson(all);
    return kExitOk;
  }
  Table table({"ID", "PROVIDER", "NAME", "REGION", "CREATED"});
  for (const v1::Listing& l : all.listings()) {
    table.AddRow({l.listing_id(), l.provider_id(), l.display_name(), l.region(),
                  FormatTimestamp(l.create_time())});
  }
  table.Print(std::cout);
  return kExitOk;
}

}  // namespace

std::vector<Command> ListingCommands() {
  return {
      {"listings",
       "create",
       "Create a listing; submissions naming it become its provider's leads.",
       "intakectl listings create --id=acme-miami --provider=acme --name=\"Acme Miami\" "
       "--region=FL",
       {{"id", "ID", "the listing's id, as pages send it (required)"},
        {"provider", "ID", "the provider that owns it (required)"},
        {"name", "TEXT", "name of the center, 1 to 200 characters (required)"},
        {"region", "STATE", "the state it is in, e.g. FL (required)"}},
       CreateListing},
      {"listings",
       "list",
       "List listings, all or one provider's.",
       "intakectl listings list --provider=acme",
       {{"provider", "ID", "only this provider's listings"}},
       ListListings},
  };
}

}  // namespace intake::ctl
