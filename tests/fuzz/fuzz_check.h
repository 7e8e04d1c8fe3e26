// What the libFuzzer targets in tests/fuzz share: a property check that stops the run on the
// input at hand (libFuzzer then saves it as a crash artifact), and a substring search the
// fuzzer cannot learn from.
#ifndef INTAKE_TESTS_FUZZ_FUZZ_CHECK_H_
#define INTAKE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#include "absl/strings/string_view.h"

// Aborts with `what` when `condition` is false: libFuzzer reports the input as a crash.
#define INTAKE_FUZZ_CHECK(condition, what)                                            \
  do {                                                                                \
    if (!(condition)) {                                                               \
      std::fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, what); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (false)

namespace intake::fuzz {

// True if `needle` occurs in `haystack`. Byte by byte and without coverage hooks on purpose:
// libFuzzer learns from memcmp and from instrumented comparisons, and the fixed texts it would
// learn here (error messages) would let it build inputs that contain them, so that an
// "echo" check would fire on text the server wrote itself.
__attribute__((no_sanitize("coverage"))) inline bool ContainsUntraced(absl::string_view haystack,
                                                                      absl::string_view needle) {
  if (needle.empty()) return true;
  for (size_t start = 0; start + needle.size() <= haystack.size(); ++start) {
    size_t i = 0;
    while (i < needle.size() && haystack[start + i] == needle[i]) ++i;
    if (i == needle.size()) return true;
  }
  return false;
}

}  // namespace intake::fuzz

#endif  // INTAKE_TESTS_FUZZ_FUZZ_CHECK_H_
