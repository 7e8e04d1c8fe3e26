// The resume point `leads tail --cursor_file` keeps across runs: the sequence of the last event
// processed and the instance id of the database that issued it. A small text file:
//   sequence=42
//   instance_id=3f2a...
#ifndef INTAKE_CLIENT_INTAKECTL_CURSOR_FILE_H_
#define INTAKE_CLIENT_INTAKECTL_CURSOR_FILE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace intake::ctl {

struct Cursor {
  uint64_t sequence = 0;
  // Empty until a heartbeat has told it.
  std::string instance_id;
};

// Parses the text of a cursor file into *cursor. Returns false with *error (which names
// `path` and never repeats the text) if it is not a cursor file.
bool ParseCursor(absl::string_view text, const std::string& path, Cursor* cursor,
                 std::string* error);

// The text of a cursor file holding `cursor`; ParseCursor reads it back as the same cursor.
std::string FormatCursor(const Cursor& cursor);

// Reads `path` into *cursor; a missing file is a fresh cursor (0, no instance). Returns false
// with *error for a file that cannot be read or is not a cursor file.
bool LoadCursor(const std::string& path, Cursor* cursor, std::string* error);

// Replaces `path` with `cursor` atomically: written to a temporary file beside it, then renamed
// over it, so a crash leaves the old cursor or the new one, never a torn file. (Not fsynced:
// after a power loss the cursor may be older, and the stream then repeats events, which
// at-least-once delivery allows.) Returns false with *error if it cannot be written.
bool SaveCursor(const std::string& path, const Cursor& cursor, std::string* error);

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_CURSOR_FILE_H_
