// A command's flags: how each is declared, the values given on the command line, and typed
// readers that check a value the way the server would before anything is sent.
//
// The syntax is --name=value, or --name value for a flag that takes a value; a boolean flag is
// --name (or --name=true|false). '-' and '_' are interchangeable in names (--show-pii and
// --show_pii). Hand-rolled on purpose: each subcommand has its own few flags, which absl's
// process-wide flag registry does not model.
#ifndef INTAKE_CLIENT_INTAKECTL_FLAGS_H_
#define INTAKE_CLIENT_INTAKECTL_FLAGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace intake::ctl {

struct FlagSpec {
  // The name without "--", in snake_case ("daily_cap").
  absl::string_view name;
  // The placeholder for its value in help ("ID"); empty for a boolean flag.
  absl::string_view value_name;
  // One line for help.
  absl::string_view help;

  bool is_bool() const { return value_name.empty(); }
};

// The spec named `name` (snake_case) in `specs`, or nullptr.
const FlagSpec* FindFlag(const std::vector<FlagSpec>& specs, absl::string_view name);

// Parses a boolean flag's value: true/false, 1/0, yes/no.
std::optional<bool> ParseBool(absl::string_view text);

// The values given for one command's flags. Each reader returns false after printing on stderr
// what is wrong ("intakectl: --daily_cap: must be a whole number ..."), which the caller turns
// into kExitUsage. A reader of an absent optional flag returns true and leaves *out alone.
// Messages never repeat the value, which may be personal data (a phone number).
class FlagValues {
 public:
  // Records the value of --name; false if --name was already given.
  bool Set(absl::string_view name, std::string value);
  bool Has(absl::string_view name) const;
  // The value given, or "".
  std::string Get(absl::string_view name) const;

  // Any text; `required` means present and non-empty.
  bool Text(absl::string_view name, bool required, std::string* out) const;
  // An id ops choose: [a-z0-9][a-z0-9-]{0,63}.
  bool Id(absl::string_view name, bool required, std::string* out) const;
  // A name for people: 1 to 200 characters of UTF-8, no control characters.
  bool DisplayName(absl::string_view name, bool required, std::string* out) const;
  // A region (2-letter state code, "DC", "PR"); lower case is accepted and upper-cased.
  bool Region(absl::string_view name, bool required, std::string* out) const;
  // A comma-separated list of distinct regions; "" or "all" is the empty list (nationwide).
  bool Regions(absl::string_view name, std::vector<std::string>* out) const;
  // A comma-separated list of non-empty items.
  bool List(absl::string_view name, std::vector<std::string>* out) const;
  // Whole numbers in the type's range.
  bool Uint32(absl::string_view name, uint32_t* out) const;
  bool Uint64(absl::string_view name, uint64_t* out) const;
  // A page size: 1 to 1000.
  bool PageSize(absl::string_view name, int32_t* out) const;
  // A boolean flag (its value was checked when parsed); false when absent.
  bool Bool(absl::string_view name) const;
  // A value of `type` by its short name (see enum_labels.h).
  bool Enum(absl::string_view name, const google::protobuf::EnumDescriptor* type, bool required,
            int* out) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Prints "intakectl: <message>" on stderr and returns false, for readers and handlers.
bool UsageError(absl::string_view message);

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_FLAGS_H_
