// intakectl's command line on arbitrary arguments (the input split at NUL bytes): the parser,
// the global flags (--timeout's duration, --output) and every typed reader of flags.h on every
// flag of the command named. Properties: nothing crashes; a reader that refuses a value says
// so on stderr without repeating the value (it may be a phone number); a reader that accepts
// one leaves a value within the rules it documents.
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "client/intakectl/dispatch.h"
#include "intake/v1/lead.pb.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using intake::ctl::FlagValues;
using intake::fuzz::ContainsUntraced;

// Runs every reader on the flag `name`, with stderr captured, and checks what they say.
void ReadEveryWay(const FlagValues& flags, absl::string_view name) {
  const std::string value = flags.Get(name);
  std::ostringstream said;
  std::streambuf* const stderr_buffer = std::cerr.rdbuf(said.rdbuf());

  std::string text;
  std::vector<std::string> list;
  uint32_t u32 = 0;
  uint64_t u64 = 0;
  int32_t page_size = 0;
  int enum_value = 0;
  (void)flags.Text(name, true, &text);
  if (flags.Id(name, true, &text)) {
    INTAKE_FUZZ_CHECK(!text.empty() && text.size() <= 64, "an id out of its length");
  }
  (void)flags.DisplayName(name, true, &text);
  if (flags.Region(name, true, &text)) {
    INTAKE_FUZZ_CHECK(text.size() == 2 && text == absl::AsciiStrToUpper(text),
                      "a region that is not two capitals");
  }
  if (flags.Regions(name, &list)) {
    for (const std::string& r : list) INTAKE_FUZZ_CHECK(r.size() == 2, "a region in a list");
  }
  if (flags.List(name, &list)) {
    for (const std::string& item : list) INTAKE_FUZZ_CHECK(!item.empty(), "an empty list item");
  }
  (void)flags.Uint32(name, &u32);
  (void)flags.Uint64(name, &u64);
  if (flags.PageSize(name, &page_size)) {
    INTAKE_FUZZ_CHECK(!flags.Has(name) || (page_size >= 1 && page_size <= 1000),
                      "a page size out of 1..1000");
  }
  (void)flags.Enum(name, intake::v1::LeadState_descriptor(), true, &enum_value);
  (void)flags.Bool(name);

  std::cerr.rdbuf(stderr_buffer);
  if (value.size() >= 12) {
    INTAKE_FUZZ_CHECK(!ContainsUntraced(said.str(), value), "a message repeats a flag's value");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<intake::ctl::Command>* const commands =
      new std::vector<intake::ctl::Command>(intake::ctl::AllCommands());
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args = absl::StrSplit(input, absl::ByChar('\0'));
  if (args.size() > 64) return 0;

  std::ostringstream said;
  std::streambuf* const stderr_buffer = std::cerr.rdbuf(said.rdbuf());
  intake::ctl::CommandLine line;
  const bool parsed = intake::ctl::ParseCommandLine(args, *commands, &line);
  intake::ctl::GlobalOptions options;
  if (parsed) (void)intake::ctl::ApplyGlobalFlags(line.global, &options);
  std::cerr.rdbuf(stderr_buffer);
  if (!parsed) return 0;
  INTAKE_FUZZ_CHECK(options.timeout > absl::ZeroDuration(), "a timeout that is not positive");

  for (const char* global : {"addr", "token_file", "timeout", "output"}) {
    ReadEveryWay(line.global, global);
  }
  if (line.command != nullptr) {
    for (const intake::ctl::FlagSpec& spec : line.command->flags) {
      ReadEveryWay(line.flags, spec.name);
    }
  }
  return 0;
}
