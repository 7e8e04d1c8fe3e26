// optout, erase, purge: a caller's consent and data, and retention.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/intakectl/command.h"
#include "client/intakectl/unary_call.h"
#include "google/protobuf/util/time_util.h"
#include "intake/v1/admin_service.grpc.pb.h"

namespace intake::ctl {
namespace {

using v1::AdminService;

constexpr FlagSpec kPhoneFlag = {"phone", "PHONE",
                                 "the caller's number, any format submit accepts (required)"};
constexpr FlagSpec kYesFlag = {"yes", "", "confirm: this cannot be undone (required)"};

bool Confirmed(const Invocation& run, absl::string_view what) {
  if (run.flags.Bool("yes")) return true;
  return UsageError(absl::StrCat(what, " cannot be undone; add --yes to go ahead"));
}

// The cutoff --older_than names: an age ("30d", "720h", "90m") before now, or an RFC 3339 time.
// False for anything else, and for a cutoff before the year 1 (where google.protobuf.Timestamp
// begins): "99999999999999d" or "inf" would otherwise overflow into a time no request can carry.
bool ParseCutoff(absl::string_view text, absl::Time now, absl::Time* cutoff) {
  const absl::Time earliest =
      absl::FromUnixSeconds(google::protobuf::util::TimeUtil::kTimestampMinSeconds);
  absl::string_view days = absl::StripAsciiWhitespace(text);
  int64_t n = 0;
  absl::Duration age;
  if (absl::ConsumeSuffix(&days, "d")) {
    // Checked before multiplying: 24 * n must not overflow.
    if (!absl::SimpleAtoi(days, &n) || n <= 0 || n > (now - earliest) / absl::Hours(24)) {
      return false;
    }
    *cutoff = now - absl::Hours(24) * n;
    return true;
  }
  if (absl::ParseDuration(text, &age)) {
    if (age <= absl::ZeroDuration() || age > now - earliest) return false;
    *cutoff = now - age;
    return true;
  }
  std::string error;
  return absl::ParseTime(absl::RFC3339_full, text, cutoff, &error) && *cutoff <= now &&
         *cutoff >= earliest;
}

int OptOut(const Invocation& run) {
  v1::RecordOptOutRequest request;
  if (!run.flags.Text("phone", /*required=*/true, request.mutable_phone())) return kExitUsage;
  return RunAdmin(run, &AdminService::Stub::RecordOptOut, request,
                  [](const v1::RecordOptOutResponse& r) {
                    std::cout << "opted out " << r.opted_out_leads() << " lead(s)\n";
                  });
}

int Erase(const Invocation& run) {
  v1::EraseCallerRequest request;
  if (!run.flags.Text("phone", /*required=*/true, request.mutable_phone()) ||
      !Confirmed(run, "erasing a caller's data")) {
    return kExitUsage;
  }
  return RunAdmin(run, &AdminService::Stub::EraseCaller, request,
                  [](const v1::EraseCallerResponse& r) {
                    std::cout << "erased " << r.erased_leads() << " lead(s)\n";
                  });
}

int Purge(const Invocation& run) {
  std::string older_than;
  if (!run.flags.Text("older_than", /*required=*/true, &older_than)) return kExitUsage;
  absl::Time cutoff;
  if (!ParseCutoff(older_than, absl::Now(), &cutoff)) {
    UsageError(
        "--older_than: must be an age such as 30d or 720h, or a past RFC 3339 time "
        "such as 2024-01-31T00:00:00Z");
    return kExitUsage;
  }
  if (!Confirmed(run, "purging leads")) return kExitUsage;
  v1::PurgeLeadsRequest request;
  *request.mutable_older_than() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(cutoff));
  const std::string shown = absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", cutoff, absl::UTCTimeZone());
  return RunAdmin(run, &AdminService::Stub::PurgeLeads, request,
                  [&shown](const v1::PurgeLeadsResponse& r) {
                    std::cout << "purged " << r.purged_leads() << " lead(s) last submitted before "
                              << shown << "\n";
                  });
}

}  // namespace

std::vector<Command> PrivacyCommands() {
  return {
      {"",
       "optout",
       "Record that a caller revoked consent: their open leads become OPTED_OUT.",
       "intakectl optout --phone=\"(305) 736-5000\"",
       {kPhoneFlag},
       OptOut},
      {"",
       "erase",
       "Erase a caller's personal data from every lead (consent evidence is kept as hashes).",
       "intakectl erase --phone=\"(305) 736-5000\" --yes",
       {kPhoneFlag, kYesFlag},
       Erase},
      {"",
       "purge",
       "Delete leads last submitted before a cutoff, for retention.",
       "intakectl purge --older_than=365d --yes",
       {{"older_than", "AGE|TIME",
         "an age (30d, 720h) or an RFC 3339 time; leads last submitted before it go (required)"},
        kYesFlag},
       Purge},
  };
}

}  // namespace intake::ctl
