// The `leads tail --cursor_file` format (client/intakectl/cursor_file.h) on arbitrary bytes:
// a file that is not a cursor file is refused with a message that does not repeat it; a
// cursor that parses is written back (FormatCursor) as text that parses to the same cursor.
#include <cstddef>
#include <cstdint>
#include <string>

#include "client/intakectl/cursor_file.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string path = "cursor";
  intake::ctl::Cursor cursor;
  std::string error;
  if (!intake::ctl::ParseCursor(text, path, &cursor, &error)) {
    INTAKE_FUZZ_CHECK(error == "cursor is not a cursor file (want sequence=N lines)" ||
                          error == "cursor is not a cursor file (no sequence=N line)",
                      "an unexpected error message");
    return 0;
  }
  intake::ctl::Cursor again;
  INTAKE_FUZZ_CHECK(
      intake::ctl::ParseCursor(intake::ctl::FormatCursor(cursor), path, &again, &error),
      "a formatted cursor does not parse");
  INTAKE_FUZZ_CHECK(again.sequence == cursor.sequence && again.instance_id == cursor.instance_id,
                    "a cursor changes when written and read back");
  return 0;
}
