#include "client/intakectl/enum_labels.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace intake::ctl {
namespace {

using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;

// buf STANDARD prefixes every value with the enum's name in UPPER_SNAKE_CASE.
std::string ValuePrefix(const EnumDescriptor* type) {
  std::string prefix;
  for (const char c : type->name()) {
    if (absl::ascii_isupper(c) && !prefix.empty()) prefix.push_back('_');
    prefix.push_back(absl::ascii_toupper(c));
  }
  prefix.push_back('_');
  return prefix;
}

std::string ShortName(const EnumValueDescriptor* value) {
  const std::string prefix = ValuePrefix(value->type());
  absl::string_view name = value->name();
  absl::ConsumePrefix(&name, prefix);
  return std::string(name);
}

}  // namespace

std::string EnumLabel(const EnumDescriptor* type, int value) {
  if (value == 0) return "-";
  const EnumValueDescriptor* v = type->FindValueByNumber(value);
  if (v == nullptr) return std::to_string(value);
  return ShortName(v);
}

std::optional<int> ParseEnumLabel(const EnumDescriptor* type, absl::string_view text) {
  const std::string wanted = absl::AsciiStrToUpper(absl::StrReplaceAll(text, {{"-", "_"}}));
  for (int i = 0; i < type->value_count(); ++i) {
    const EnumValueDescriptor* v = type->value(i);
    if (v->number() == 0) continue;
    if (wanted == ShortName(v) || wanted == v->name()) return v->number();
  }
  return std::nullopt;
}

std::string EnumChoices(const EnumDescriptor* type) {
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    const EnumValueDescriptor* v = type->value(i);
    if (v->number() != 0) names.push_back(absl::AsciiStrToLower(ShortName(v)));
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace intake::ctl
