// quarantine list|release: submissions held back as bots, for ops to review and release.
#include <iostream>
#include <string>
#include <vector>

#include "client/intakectl/command.h"
#include "client/intakectl/lead_view.h"
#include "client/intakectl/output.h"
#include "client/intakectl/unary_call.h"
#include "intake/v1/admin_service.grpc.pb.h"

namespace intake::ctl {
namespace {

using v1::AdminService;

void PrintQuarantine(const v1::ListQuarantinedSubmissionsResponse& r, bool quiet, bool show_pii) {
  if (quiet) {
    for (const v1::QuarantinedSubmission& held : r.submissions()) {
      std::cout << held.submission_id() << "\n";
    }
    return;
  }
  Table table({"SUBMISSION", "RECEIVED", "EXPIRES", "LISTING", "PHONE", "NAME", "HONEYPOT"});
  for (const v1::QuarantinedSubmission& held : r.submissions()) {
    table.AddRow({held.submission_id(), FormatTimestamp(held.create_time()),
                  FormatTimestamp(held.expire_time()),
                  held.listing_id().empty() ? "(general)" : held.listing_id(),
                  ShowPhone(held.caller().phone(), show_pii),
                  ShowPii(held.caller().name(), show_pii), ShowPii(held.honeypot(), show_pii)});
  }
  table.Print(std::cout);
  if (!r.next_page_token().empty()) {
    std::cerr << "intakectl: more submissions: add --page_token=" << r.next_page_token() << "\n";
  }
}

int ListQuarantine(const Invocation& run) {
  v1::ListQuarantinedSubmissionsRequest request;
  int32_t page_size = 0;
  if (!run.flags.PageSize("page_size", &page_size)) return kExitUsage;
  request.set_page_size(page_size);
  request.set_page_token(run.flags.Get("page_token"));
  const bool quiet = run.flags.Bool("quiet");
  const bool show_pii = run.global.show_pii;
  return RunAdmin(run, &AdminService::Stub::ListQuarantinedSubmissions, request,
                  [quiet, show_pii](const v1::ListQuarantinedSubmissionsResponse& r) {
                    PrintQuarantine(r, quiet, show_pii);
                  });
}

int ReleaseQuarantined(const Invocation& run) {
  v1::ReleaseQuarantinedSubmissionRequest request;
  if (!run.flags.Text("submission", /*required=*/true, request.mutable_submission_id())) {
    return kExitUsage;
  }
  const bool show_pii = run.global.show_pii;
  return RunAdmin(run, &AdminService::Stub::ReleaseQuarantinedSubmission, request,
                  [show_pii](const v1::ReleaseQuarantinedSubmissionResponse& r) {
                    PrintRecord(LeadRecord(r.lead(), show_pii), std::cout);
                  });
}

}  // namespace

std::vector<Command> QuarantineCommands() {
  return {
      {"quarantine",
       "list",
       "List submissions held back as bots (kept 7 days), newest first, to spot a real caller.",
       "intakectl quarantine list --show-pii",
       {{"page_size", "N", "at most N submissions (default 50, at most 1000)"},
        {"page_token", "TOKEN", "the token the previous page printed"},
        {"quiet", "", "print only the submission ids, one per line (for scripts)"}},
       ListQuarantine},
      {"quarantine",
       "release",
       "Release a quarantined submission: it becomes a lead (or joins the caller's open one) "
       "as if no bot had been suspected.",
       "intakectl quarantine release --submission=sub-0190c5a4e2b17f3d5b8e9c0a1f2d3e4b",
       {{"submission", "ID", "the submission's id, from quarantine list (required)"}},
       ReleaseQuarantined},
  };
}

}  // namespace intake::ctl
