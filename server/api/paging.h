// Page sizes and opaque page tokens of the List* RPCs.
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

// The token that resumes a listing after the key `after`, bound to the listing's `scope`
// (its filters), so a token is refused when replayed with other filters. Empty `after`
// gives an empty token (the last page).
std::string EncodePageToken(absl::string_view scope, absl::string_view after);

// The key a token resumes after; "" for an empty token. kInvalidArgument (a BadRequest on
// `page_token`) for anything this server did not issue for `scope`.
absl::StatusOr<std::string> DecodePageToken(absl::string_view scope, absl::string_view token);

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_PAGING_H_
