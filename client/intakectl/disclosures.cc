// disclosures: the accounting of disclosures for a caller's access request.
#include <iostream>
#include <vector>

#include "client/intakectl/command.h"
#include "client/intakectl/enum_labels.h"
#include "client/intakectl/unary_call.h"
#include "intake/v1/admin_service.grpc.pb.h"

namespace intake::ctl {
namespace {

int ListDisclosures(const Invocation& run) {
  v1::ListDisclosuresRequest request;
  if (!run.flags.Text("phone", /*required=*/true, request.mutable_phone())) return kExitUsage;
  return RunAdmin(run, &v1::AdminService::Stub::ListDisclosures, request,
                  [](const v1::ListDisclosuresResponse& r) {
                    if (r.leads().empty()) {
                      std::cout << "no leads of this caller\n";
                      return;
                    }
                    Table table({"LEAD", "LISTING", "CREATED", "PROVIDER", "TOKEN", "CHANNEL",
                                 "FIRST RECEIVED"});
                    for (const v1::LeadDisclosures& lead : r.leads()) {
                      const std::string listing = OrDash(lead.listing_id());
                      if (lead.disclosures().empty()) {
                        table.AddRow({lead.lead_id(), listing, FormatTimestamp(lead.create_time()),
                                      "-", "-", "-", "-"});
                      }
                      for (const v1::Disclosure& d : lead.disclosures()) {
                        table.AddRow({lead.lead_id(), listing, FormatTimestamp(lead.create_time()),
                                      d.provider_id(), d.token_id(),
                                      EnumLabel(v1::DisclosureChannel_descriptor(), d.channel()),
                                      FormatTimestamp(d.first_time())});
                      }
                    }
                    table.Print(std::cout);
                  });
}

}  // namespace

std::vector<Command> DisclosureCommands() {
  return {
      {"",
       "disclosures",
       "List a caller's leads and every provider token that received each (for an access "
       "request).",
       "intakectl disclosures --phone=\"(305) 736-5000\"",
       {{"phone", "PHONE", "the caller's number, any format submit accepts (required)"}},
       ListDisclosures},
  };
}

}  // namespace intake::ctl
