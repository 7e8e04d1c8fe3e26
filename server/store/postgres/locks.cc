#include "server/store/postgres/locks.h"

#include <sodium.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace intake::store::postgres {

int64_t DedupLockKey(absl::string_view phone_hash, absl::string_view target) {
  // Length-prefixed, so that no (phone_hash, target) pair reads as another.
  const std::string input = absl::StrCat(phone_hash.size(), ":", phone_hash, target);
  unsigned char digest[crypto_generichash_BYTES_MIN];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), nullptr, 0);
  uint64_t key = 0;
  for (int i = 0; i < 8; ++i) key = (key << 8) | digest[i];
  return static_cast<int64_t>(key);
}

}  // namespace intake::store::postgres
