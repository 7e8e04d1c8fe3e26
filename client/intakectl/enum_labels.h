// Short, lower-case names for the API's enum values on the command line and in tables:
// PROVIDER_STATE_PAUSED is "paused" as input and "PAUSED" in a table.
#ifndef INTAKE_CLIENT_INTAKECTL_ENUM_LABELS_H_
#define INTAKE_CLIENT_INTAKECTL_ENUM_LABELS_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace intake::ctl {

// The value's name without the enum's prefix (LEAD_STATE_NEW -> "NEW"); "-" for the
// UNSPECIFIED value and the number for a value this build does not know.
std::string EnumLabel(const google::protobuf::EnumDescriptor* type, int value);

// The value named by `text`: the short name in any case, with '-' or '_' ("left-voicemail"),
// or the full name. UNSPECIFIED is never accepted. nullopt when nothing matches.
std::optional<int> ParseEnumLabel(const google::protobuf::EnumDescriptor* type,
                                  absl::string_view text);

// The accepted short names, lower case, comma-separated, for error messages and help.
std::string EnumChoices(const google::protobuf::EnumDescriptor* type);

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_ENUM_LABELS_H_
