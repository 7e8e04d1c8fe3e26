// Page sizes and page tokens of the List* RPCs.
#ifndef INTAKE_SERVER_API_PAGING_H_
#define INTAKE_SERVER_API_PAGING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace intake::api {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;

// 0 means kDefaultPageSize, larger than kMaxPageSize means kMaxPageSize; negative is
// kInvalidArgument (a BadRequest on `page_size`).
absl::StatusOr<int> PageSize(int requested);

// Issues and checks page tokens. A token carries the key a listing resumes after, and a MAC
// over that key and the listing's scope (the RPC and its filters, e.g.
// "AdminService.ListLeads/acme/1/0"), so a token is accepted only by the call and filters it
// was issued for, and nobody without the key can make or alter one: a forged token cannot
// make a listing resume where the forger chose. Tokens do not expire; every server holding
// the same key (replicas sharing a data directory's data.key) accepts them.
//
// Decode is a pure function of the key and its arguments, for any bytes a client may send.
// Thread-safe (immutable).
class PageTokens {
 public:
  static constexpr size_t kKeyBytes = 32;

  // `key`: kKeyBytes of secret (see store::DeriveDataSubkey). A key of another size is a
  // programming error.
  explicit PageTokens(std::string key);

  // The token that resumes the listing `scope` after the key `after`. Empty `after` gives an
  // empty token (the last page).
  std::string Encode(absl::string_view scope, absl::string_view after) const;

  // The key a token resumes after; "" for an empty token. kInvalidArgument (a BadRequest on
  // `page_token`, naming nothing of the token) for anything this key did not issue for
  // `scope`.
  absl::StatusOr<std::string> Decode(absl::string_view scope, absl::string_view token) const;

 private:
  // The MAC of (scope, after), kTagBytes long.
  std::string Tag(absl::string_view scope, absl::string_view after) const;

  const std::string key_;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_PAGING_H_
