#include "tests/e2e/shell_blocks.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace intake::testing {
namespace {

// 2 for "## Title", 0 for a line that is not a heading.
size_t HeadingLevel(absl::string_view line) {
  const size_t hashes = line.find_first_not_of('#');
  if (hashes == 0 || hashes == absl::string_view::npos || line[hashes] != ' ') return 0;
  return hashes;
}

}  // namespace

std::vector<ShellBlock> SectionShellBlocks(absl::string_view markdown, absl::string_view heading) {
  const size_t level = HeadingLevel(heading);
  std::vector<ShellBlock> blocks;
  bool in_section = false, in_block = false;
  std::string marker;
  for (absl::string_view line : absl::StrSplit(markdown, '\n')) {
    if (in_block) {
      if (line == "```") {
        in_block = false;
      } else {
        absl::StrAppend(&blocks.back().script, line, "\n");
      }
      continue;
    }
    const size_t line_level = HeadingLevel(line);
    if (line_level != 0 && (line == heading || line_level <= level)) in_section = line == heading;
    if (!in_section) continue;
    if (line == "```sh") {
      in_block = true;
      blocks.push_back({marker, ""});
      marker.clear();
    } else if (absl::ConsumePrefix(&line, "<!-- readme-test: ")) {
      marker = std::string(absl::StripSuffix(line, " -->"));
    }
  }
  return blocks;
}

}  // namespace intake::testing
