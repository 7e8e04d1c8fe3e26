#include "client/intakectl/cursor_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace intake::ctl {

bool ParseCursor(absl::string_view text, const std::string& path, Cursor* cursor,
                 std::string* error) {
  *cursor = Cursor();
  bool has_sequence = false;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    const std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    const absl::string_view value = absl::StripAsciiWhitespace(kv.second);
    if (kv.first == "sequence" && absl::SimpleAtoi(value, &cursor->sequence)) {
      has_sequence = true;
    } else if (kv.first == "instance_id") {
      cursor->instance_id = std::string(value);
    } else {
      *error = absl::StrCat(path, " is not a cursor file (want sequence=N lines)");
      return false;
    }
  }
  if (!has_sequence) {
    *error = absl::StrCat(path, " is not a cursor file (no sequence=N line)");
    return false;
  }
  return true;
}

std::string FormatCursor(const Cursor& cursor) {
  std::string text = absl::StrCat("sequence=", cursor.sequence, "\n");
  if (!cursor.instance_id.empty()) absl::StrAppend(&text, "instance_id=", cursor.instance_id, "\n");
  return text;
}

bool LoadCursor(const std::string& path, Cursor* cursor, std::string* error) {
  *cursor = Cursor();
  std::ifstream in(path);
  if (!in) {
    if (access(path.c_str(), F_OK) != 0 && errno == ENOENT) return true;
    *error = absl::StrCat("cannot read ", path);
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseCursor(text.str(), path, cursor, error);
}

bool SaveCursor(const std::string& path, const Cursor& cursor, std::string* error) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << FormatCursor(cursor);
    out.close();
    if (!out) {
      *error = absl::StrCat("cannot write ", temporary);
      return false;
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    *error = absl::StrCat("cannot rename ", temporary, " to ", path, ": ", std::strerror(errno));
    return false;
  }
  return true;
}

}  // namespace intake::ctl
