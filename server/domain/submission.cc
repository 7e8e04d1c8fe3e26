#include "server/domain/submission.h"

#include <arpa/inet.h>

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "server/domain/provider.h"
#include "server/domain/text.h"

namespace intake {
namespace {

bool IsValidRequestId(absl::string_view id) {
  if (id.size() > kMaxRequestIdChars) return false;
  for (const char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

// "#####" or "#####-####".
bool IsValidPostalCode(absl::string_view code) {
  if (code.size() != 5 && code.size() != 10) return false;
  for (size_t i = 0; i < code.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(code[i]);
    if (i == 5 ? c != '-' : !absl::ascii_isdigit(c)) return false;
  }
  return true;
}

bool IsValidIpAddress(absl::string_view ip) {
  // The longest textual IPv6 address ("ffff:...:ffff:255.255.255.255") is 45 characters.
  constexpr size_t kMaxIpChars = 45;
  if (ip.size() > kMaxIpChars) return false;
  // inet_pton reads a C string, which an embedded NUL would cut short: refuse one.
  if (ip.find('\0') != absl::string_view::npos) return false;
  const std::string terminated(ip);
  unsigned char address[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, terminated.c_str(), address) == 1 ||
         inet_pton(AF_INET6, terminated.c_str(), address) == 1;
}

// Collects violations in the order fields are checked.
class Violations {
 public:
  void Add(absl::string_view field, std::string description) {
    list_.push_back(FieldViolation{std::string{field}, std::move(description)});
  }
  // Adds a violation when `text` breaks `rule`; returns whether it was fine.
  bool CheckText(absl::string_view field, absl::string_view text, const TextRule& rule) {
    std::optional<std::string> problem = FindTextProblem(text, rule);
    if (!problem.has_value()) return true;
    Add(field, *std::move(problem));
    return false;
  }
  FieldViolations Take() && { return std::move(list_); }

 private:
  FieldViolations list_;
};

}  // namespace

absl::StatusOr<std::string> NormalizePhone(absl::string_view input, const PhoneNormalizer& phones) {
  if (input.empty()) return absl::InvalidArgumentError("is required");
  if (std::optional<std::string> problem = FindTextProblem(input, {1, kMaxPhoneChars})) {
    return absl::InvalidArgumentError(*std::move(problem));
  }
  absl::StatusOr<std::string> e164 = phones.ToE164(input);
  if (e164.ok()) return e164;
  // The contract promises a value-free reason; fall back on a fixed one if there is none.
  const absl::string_view reason = e164.status().message();
  return absl::InvalidArgumentError(reason.empty() ? "is not a valid phone number" : reason);
}

FieldViolations ValidateSubmission(Submission& submission, const PhoneNormalizer& phones) {
  Violations violations;

  if (!IsValidRequestId(submission.request_id)) {
    violations.Add("request_id", absl::StrCat("must be at most ", kMaxRequestIdChars,
                                              " characters of A-Z, a-z, 0-9, '_' and '-'"));
  }
  if (!submission.listing_id.empty() && !IsValidId(submission.listing_id)) {
    violations.Add("listing_id", "must match [a-z0-9][a-z0-9-]{0,63}");
  }

  // Caller. The normalised values are kept aside until every field has passed.
  const absl::string_view name = absl::StripAsciiWhitespace(submission.caller_name);
  violations.CheckText("caller.name", name, {0, kMaxNameChars});

  std::string e164;
  if (absl::StatusOr<std::string> phone = NormalizePhone(submission.phone, phones); phone.ok()) {
    e164 = *std::move(phone);
  } else {
    violations.Add("caller.phone", std::string(phone.status().message()));
  }

  const absl::string_view postal_code = absl::StripAsciiWhitespace(submission.postal_code);
  if (!postal_code.empty() && !IsValidPostalCode(postal_code)) {
    violations.Add("caller.postal_code", "must be a US ZIP code: ##### or #####-####");
  }

  const std::string region = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(submission.region));
  if (!region.empty() && !IsValidRegion(region)) {
    violations.Add("caller.region", "must be a US state code: one of the 50 states, DC or PR");
  }

  // Consent.
  if (!submission.consent_granted) {
    violations.Add("consent.granted", "must be true: the caller must consent to the call back");
  }
  violations.CheckText("consent.text", submission.consent_text,
                       {1, kMaxConsentTextChars, AllowedControls::kTabAndLineBreaks});
  if (submission.advertisers.size() > kMaxAdvertisers) {
    // Past the limit the entries are not examined: a huge list would make a huge reply.
    violations.Add("consent.advertisers",
                   absl::StrCat("must have at most ", kMaxAdvertisers, " entries"));
  } else {
    for (size_t i = 0; i < submission.advertisers.size(); ++i) {
      violations.CheckText(absl::StrCat("consent.advertisers[", i, "]"), submission.advertisers[i],
                           {1, kMaxAdvertiserChars});
    }
  }

  // Form context.
  const FormContext& form = submission.form;
  violations.CheckText("form.form_id", form.form_id, {0, kMaxFormIdChars});
  violations.CheckText("form.page_url", form.page_url, {0, kMaxUrlChars});
  violations.CheckText("form.referrer", form.referrer, {0, kMaxUrlChars});
  violations.CheckText("form.user_agent", form.user_agent, {0, kMaxUserAgentChars});
  if (!form.client_ip.empty() && !IsValidIpAddress(form.client_ip)) {
    violations.Add("form.client_ip", "must be an IPv4 or IPv6 address");
  }
  violations.CheckText("form.utm_source", form.utm_source, {0, kMaxUtmChars});
  violations.CheckText("form.utm_medium", form.utm_medium, {0, kMaxUtmChars});
  violations.CheckText("form.utm_campaign", form.utm_campaign, {0, kMaxUtmChars});

  // Checked as it will be stored, with CR LF pairs folded to LF; a CR left over is refused.
  std::string message = absl::StrReplaceAll(submission.message, {{"\r\n", "\n"}});
  violations.CheckText("message", message, {0, kMaxMessageChars, AllowedControls::kTabAndLineFeed});

  FieldViolations result = std::move(violations).Take();
  if (!result.empty()) return result;

  submission.caller_name = std::string{name};
  submission.phone = std::move(e164);
  submission.postal_code = std::string{postal_code};
  submission.region = region;
  submission.message = std::move(message);
  return result;
}

bool IsBot(const Submission& submission) { return !submission.honeypot.empty(); }

}  // namespace intake
