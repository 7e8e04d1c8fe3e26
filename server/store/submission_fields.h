// What both storage backends derive from a submission in the same way: fresh ids, the
// personal fields that are sealed, and the canonical payload a request_id is checked against.
// Internal to server/store.
#ifndef INTAKE_SERVER_STORE_SUBMISSION_FIELDS_H_
#define INTAKE_SERVER_STORE_SUBMISSION_FIELDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/domain/lead.h"
#include "server/domain/submission.h"
#include "server/store/pii_cipher.h"

namespace intake::store {

// An id with a readable prefix: the creation time in microseconds, then 64 random bits. The
// time first keeps the primary-key B-trees growing at their right edge (random keys touch
// index pages all over the file, and each touched page is written to the WAL at every
// commit); the random part keeps ids unguessable and collision-free. An id reveals when it
// was made, which the lead's create_time says anyway, and nothing of counts.
std::string NewId(absl::string_view prefix, absl::Time now);

// SHA-256 of `data`, 32 raw bytes.
std::string Sha256(absl::string_view data);

// The personal data of a submission, in the order a lead's sealed column keeps it.
std::vector<std::string> PersonalFields(const Submission& s);

// What a quarantined submission's sealed column keeps: PersonalFields, then everything a
// release needs to process it as a submission and ops review (the honeypot included: a
// browser's autofill may have put a real caller's details there).
std::vector<std::string> QuarantineFields(const Submission& s);
// The submission QuarantineFields kept (listing_id and request_id aside, which are not sealed).
// A row quarantined before QuarantineFields existed holds PersonalFields alone: `complete` is
// then false and every other field empty. kDataLoss for a column that does not open with this
// key or holds neither (the message holds no data).
absl::StatusOr<Submission> OpenQuarantineFields(const PiiCipher& cipher, absl::string_view sealed,
                                                bool* complete);

// Everything the caller sent (the honeypot verdict included), canonically, so that a
// request_id replayed with any difference is told apart from a retry.
std::string CanonicalPayload(const Submission& s, bool bot);

// Whether a quarantined submission may be released: kFailedPrecondition for one not kept whole
// (`complete` false, see OpenQuarantineFields), whose consent is not known.
absl::Status CheckReleasable(bool complete);

// Whether a retry of a request_id whose submission was recorded with payload hash `stored`
// replays its first result when it carries `payload_hash` (else it is another submission under
// a used request_id). An empty stored hash has nothing to compare with and replays: the
// submission of an erased lead (erasure drops the hash), or one recorded before payload hashes
// were keyed.
inline bool RetryMayReplay(absl::string_view stored, absl::string_view payload_hash) {
  return stored.empty() || stored == payload_hash;
}

// Whether a submission whose caller's deadline is `deadline` is past it now, when its turn in
// the writer has come (real time: gRPC deadlines are, whatever clock the store runs on).
inline bool PastDeadline(absl::Time deadline) { return absl::Now() >= deadline; }
inline constexpr absl::string_view kPastDeadline =
    "the call's deadline passed while it waited for the database writer";

// Opens a lead's sealed column into its personal fields. kDataLoss if it does not open
// with this key (never retryable, never the caller's fault; the message holds no data).
absl::Status OpenPersonalFields(const PiiCipher& cipher, absl::string_view sealed, Lead& lead);

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_SUBMISSION_FIELDS_H_
