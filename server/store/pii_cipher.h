// Encryption at rest of callers' personal data, and the keyed phone hash that dedup and
// erasure look leads up by, so the plain number is never stored or indexed.
#ifndef INTAKE_SERVER_STORE_PII_CIPHER_H_
#define INTAKE_SERVER_STORE_PII_CIPHER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace intake::store {

// A key for a purpose other than personal data (e.g. signing page tokens), `bytes` long
// (16 to 64), derived from the hex data key with libsodium's KDF under `context`, exactly 8
// characters naming the purpose. Every server holding the same data.key derives the same key,
// so replicas sharing a data directory need no further secret file, and the derived key tells
// nothing of the data key or of other purposes' keys. kFailedPrecondition as
// PiiCipher::FromKeyHex.
absl::StatusOr<std::string> DeriveDataSubkey(absl::string_view key_hex, absl::string_view context,
                                             size_t bytes);

// Thread-safe; immutable after creation.
class PiiCipher {
 public:
  // A new random data key, hex encoded (what the data key file holds).
  static std::string NewKeyHex();

  // From the hex data key. kFailedPrecondition if it is not 64 hex digits.
  static absl::StatusOr<std::unique_ptr<PiiCipher>> FromKeyHex(absl::string_view key_hex);

  // libsodium secretbox (XSalsa20-Poly1305) of `fields`, a fresh random nonce first.
  std::string Seal(const std::vector<std::string>& fields) const;
  // The fields Seal was given. kDataLoss if `sealed` was not made by this key or was altered.
  absl::StatusOr<std::vector<std::string>> Open(absl::string_view sealed) const;

  // Keyed BLAKE2b-256 of an E.164 phone number: equal numbers give equal hashes, and without
  // the key the hash reveals nothing (a phone number space is small enough to enumerate, so
  // an unkeyed hash would).
  std::string PhoneHash(absl::string_view e164) const;

  // Keyed BLAKE2b-256 of a submission's canonical payload (which holds personal data), with
  // a key of its own: it tells a retried request_id from a reused one without letting anyone
  // without the key confirm a guessed submission.
  std::string PayloadHash(absl::string_view payload) const;

  // Names the data key without revealing it: 16 hex digits derived from the key one way
  // (a subkey of its own). The database records the id of the key its data is sealed with,
  // so that a wrong or new key is refused at start instead of failing on every lead.
  const std::string& key_id() const { return key_id_; }

 private:
  PiiCipher() = default;
  std::string box_key_;      // Subkey 1 of the data key.
  std::string hash_key_;     // Subkey 2.
  std::string payload_key_;  // Subkey 3.
  std::string key_id_;       // Hex of the first 8 bytes of subkey 4.
};

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_PII_CIPHER_H_
