#include "server/store/submission_fields.h"

#include <sodium.h>

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace intake::store {

std::string NewId(absl::string_view prefix, absl::Time now) {
  unsigned char bytes[16];
  const auto micros = static_cast<uint64_t>(absl::ToUnixMicros(now));
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(micros >> (56 - 8 * i));
  randombytes_buf(bytes + 8, 8);
  char hex[sizeof bytes * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return absl::StrCat(prefix, hex);
}

std::string Sha256(absl::string_view data) {
  std::string hash(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(hash.data()),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return hash;
}

std::vector<std::string> PersonalFields(const Submission& s) {
  return {s.caller_name,    s.phone,           s.postal_code,  s.message,
          s.form.client_ip, s.form.user_agent, s.form.referrer};
}

namespace {
constexpr size_t kPersonalFieldCount = 7;
constexpr size_t kQuarantineFieldCount = kPersonalFieldCount + 9;
}  // namespace

std::vector<std::string> QuarantineFields(const Submission& s) {
  std::vector<std::string> fields = PersonalFields(s);
  fields.insert(fields.end(), {s.honeypot, s.region, s.consent_text,
                               absl::StrJoin(s.advertisers, "\n"), s.form.form_id, s.form.page_url,
                               s.form.utm_source, s.form.utm_medium, s.form.utm_campaign});
  return fields;
}

absl::Status CheckReleasable(bool complete) {
  if (complete) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "this submission was quarantined by an intaked that kept only its personal data, not its "
      "consent: it cannot be released");
}

absl::StatusOr<Submission> OpenQuarantineFields(const PiiCipher& cipher, absl::string_view sealed,
                                                bool* complete) {
  absl::StatusOr<std::vector<std::string>> opened = cipher.Open(sealed);
  if (!opened.ok() ||
      (opened->size() != kPersonalFieldCount && opened->size() != kQuarantineFieldCount)) {
    return absl::DataLossError("a quarantined submission does not open with the data key");
  }
  std::vector<std::string>& f = *opened;
  *complete = f.size() == kQuarantineFieldCount;
  f.resize(kQuarantineFieldCount);
  Submission s;
  s.caller_name = std::move(f[0]);
  s.phone = std::move(f[1]);
  s.postal_code = std::move(f[2]);
  s.message = std::move(f[3]);
  s.form.client_ip = std::move(f[4]);
  s.form.user_agent = std::move(f[5]);
  s.form.referrer = std::move(f[6]);
  s.honeypot = std::move(f[7]);
  s.region = std::move(f[8]);
  s.consent_granted = *complete;  // Validation let no submission without consent in.
  s.consent_text = std::move(f[9]);
  s.advertisers = absl::StrSplit(f[10], '\n', absl::SkipEmpty());
  s.form.form_id = std::move(f[11]);
  s.form.page_url = std::move(f[12]);
  s.form.utm_source = std::move(f[13]);
  s.form.utm_medium = std::move(f[14]);
  s.form.utm_campaign = std::move(f[15]);
  return s;
}

std::string CanonicalPayload(const Submission& s, bool bot) {
  const std::string advertisers = absl::StrJoin(s.advertisers, "\n");
  const absl::string_view fields[] = {// PersonalFields, in their order.
                                      s.caller_name, s.phone, s.postal_code, s.message,
                                      s.form.client_ip, s.form.user_agent, s.form.referrer,
                                      // Then the rest.
                                      s.listing_id, s.region, s.consent_granted ? "1" : "0",
                                      s.consent_text, advertisers, s.form.form_id, s.form.page_url,
                                      s.form.utm_source, s.form.utm_medium, s.form.utm_campaign,
                                      bot ? "bot" : ""};
  size_t size = 0;
  for (const absl::string_view f : fields) size += f.size() + 8;
  std::string joined;
  joined.reserve(size);
  for (const absl::string_view f : fields) absl::StrAppend(&joined, f.size(), ":", f, ";");
  return joined;
}

absl::Status OpenPersonalFields(const PiiCipher& cipher, absl::string_view sealed, Lead& lead) {
  absl::StatusOr<std::vector<std::string>> fields = cipher.Open(sealed);
  if (!fields.ok() || fields->size() != kPersonalFieldCount) {
    return absl::DataLossError("a lead's sealed data does not open with the data key");
  }
  lead.caller_name = (*fields)[0];
  lead.phone = (*fields)[1];
  lead.postal_code = (*fields)[2];
  lead.message = (*fields)[3];
  lead.form.client_ip = (*fields)[4];
  lead.form.user_agent = (*fields)[5];
  lead.form.referrer = (*fields)[6];
  return absl::OkStatus();
}

}  // namespace intake::store
