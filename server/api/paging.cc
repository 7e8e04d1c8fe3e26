#include "server/api/paging.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/api/status.h"

namespace intake::api {
namespace {

// Tokens are base64url("v1\n<scope>\n<key>"): opaque to clients, and self-describing enough
// to refuse a token from another listing or version.
constexpr absl::string_view kVersion = "v1";

}  // namespace

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0) return BadRequest({{"page_size", "must not be negative"}});
  if (requested == 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

std::string EncodePageToken(absl::string_view scope, absl::string_view after) {
  if (after.empty()) return "";
  return absl::WebSafeBase64Escape(absl::StrCat(kVersion, "\n", scope, "\n", after));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view scope, absl::string_view token) {
  if (token.empty()) return std::string();
  std::string decoded;
  if (absl::WebSafeBase64Unescape(token, &decoded)) {
    std::vector<std::string> parts = absl::StrSplit(decoded, absl::MaxSplits('\n', 2));
    if (parts.size() == 3 && parts[0] == kVersion && parts[1] == scope && !parts[2].empty()) {
      return parts[2];
    }
  }
  return BadRequest({{"page_token", "is not a page token from this listing"}});
}

}  // namespace intake::api
