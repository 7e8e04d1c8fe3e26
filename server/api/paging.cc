#include "server/api/paging.h"

#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/api/status.h"

namespace intake::api {
namespace {

// Tokens are base64url(kVersion, after, tag): opaque to clients, and short. The tag is a keyed
// BLAKE2b (libsodium's crypto_generichash) of the version, the scope's length, the scope and
// the key, so no (scope, after) pair can pass for another.
constexpr char kVersion = '\x02';
constexpr size_t kTagBytes = 16;  // 128 bits: forging one is out of reach.
static_assert(kTagBytes == crypto_verify_16_BYTES);

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

absl::Status NotOurs() {
  return BadRequest({{"page_token", "is not a page token from this listing with these filters"}});
}

}  // namespace

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0) return BadRequest({{"page_size", "must not be negative"}});
  if (requested == 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

PageTokens::PageTokens(std::string key) : key_(std::move(key)) {
  if (key_.size() != kKeyBytes) std::abort();  // Wiring error: never a request's doing.
}

std::string PageTokens::Tag(absl::string_view scope, absl::string_view after) const {
  const uint64_t scope_size = scope.size();
  char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<char>(scope_size >> (8 * i));
  crypto_generichash_state state;
  crypto_generichash_init(&state, Bytes(key_), key_.size(), kTagBytes);
  crypto_generichash_update(&state, Bytes(absl::string_view(&kVersion, 1)), 1);
  crypto_generichash_update(&state, Bytes(absl::string_view(length, 8)), 8);
  crypto_generichash_update(&state, Bytes(scope), scope.size());
  crypto_generichash_update(&state, Bytes(after), after.size());
  std::string tag(kTagBytes, '\0');
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(tag.data()), tag.size());
  return tag;
}

std::string PageTokens::Encode(absl::string_view scope, absl::string_view after) const {
  if (after.empty()) return "";
  return absl::WebSafeBase64Escape(
      absl::StrCat(absl::string_view(&kVersion, 1), after, Tag(scope, after)));
}

absl::StatusOr<std::string> PageTokens::Decode(absl::string_view scope,
                                               absl::string_view token) const {
  if (token.empty()) return std::string();
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(token, &decoded) || decoded.size() < 1 + 1 + kTagBytes ||
      decoded[0] != kVersion) {
    return NotOurs();
  }
  const absl::string_view body(decoded);
  const absl::string_view after = body.substr(1, body.size() - 1 - kTagBytes);
  const std::string expected = Tag(scope, after);
  if (crypto_verify_16(Bytes(body.substr(body.size() - kTagBytes)), Bytes(expected)) != 0) {
    return NotOurs();
  }
  return std::string(after);
}

}  // namespace intake::api
