// The ```sh blocks of a Markdown document, for tests that run documentation verbatim.
#ifndef INTAKE_TESTS_E2E_SHELL_BLOCKS_H_
#define INTAKE_TESTS_E2E_SHELL_BLOCKS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace intake::testing {

struct ShellBlock {
  // The `name` of a `<!-- readme-test: name -->` line before the block; empty if none.
  std::string marker;
  // The block's lines, each ending in a newline.
  std::string script;
};

// The ```sh blocks of the section of `markdown` headed `heading` (a whole line such as
// "## Walkthrough"; the section ends at the next heading of the same or a higher level).
std::vector<ShellBlock> SectionShellBlocks(absl::string_view markdown, absl::string_view heading);

}  // namespace intake::testing

#endif  // INTAKE_TESTS_E2E_SHELL_BLOCKS_H_
