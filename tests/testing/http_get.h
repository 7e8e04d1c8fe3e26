// A minimal HTTP/1.0 GET for tests that talk to a plain HTTP server on loopback (intaked's
// metrics endpoint, Prometheus' API).
#ifndef INTAKE_TESTS_TESTING_HTTP_GET_H_
#define INTAKE_TESTS_TESTING_HTTP_GET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace intake::testing {

// The body of GET http://<host_port><path_and_query> if the status is 200. kUnavailable when
// nothing answers, kFailedPrecondition (with the status line) for another status.
absl::StatusOr<std::string> HttpGet(const std::string& host_port,
                                    const std::string& path_and_query);

// `text` percent-encoded for a URL query value.
std::string UrlEncode(absl::string_view text);

}  // namespace intake::testing

#endif  // INTAKE_TESTS_TESTING_HTTP_GET_H_
