#include "client/intakectl/flags.h"

#include <iostream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/intakectl/enum_labels.h"
#include "server/domain/provider.h"

namespace intake::ctl {
namespace {

constexpr int32_t kMaxPageSize = 1000;
constexpr size_t kMaxDisplayNameChars = 200;

bool FlagError(absl::string_view name, absl::string_view problem) {
  return UsageError(absl::StrCat("--", name, ": ", problem));
}

}  // namespace

bool UsageError(absl::string_view message) {
  std::cerr << "intakectl: " << message << "\n";
  return false;
}

const FlagSpec* FindFlag(const std::vector<FlagSpec>& specs, absl::string_view name) {
  for (const FlagSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::optional<bool> ParseBool(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "true" || lower == "1" || lower == "yes") return true;
  if (lower == "false" || lower == "0" || lower == "no") return false;
  return std::nullopt;
}

bool FlagValues::Set(absl::string_view name, std::string value) {
  return values_.emplace(std::string(name), std::move(value)).second;
}

bool FlagValues::Has(absl::string_view name) const { return values_.find(name) != values_.end(); }

std::string FlagValues::Get(absl::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? "" : it->second;
}

bool FlagValues::Text(absl::string_view name, bool required, std::string* out) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) {
    return required ? FlagError(name, "is required") : true;
  }
  *out = it->second;
  return true;
}

bool FlagValues::Id(absl::string_view name, bool required, std::string* out) const {
  std::string value;
  if (!Text(name, required, &value)) return false;
  if (value.empty()) return true;
  if (!IsValidId(value)) {
    return FlagError(name, "must be 1 to 64 of a-z, 0-9 and '-', starting with a letter or digit");
  }
  *out = value;
  return true;
}

bool FlagValues::DisplayName(absl::string_view name, bool required, std::string* out) const {
  std::string value;
  if (!Text(name, required, &value)) return false;
  if (!Has(name)) return true;
  if (!IsValidText(value, 1, kMaxDisplayNameChars)) {
    return FlagError(name, "must be 1 to 200 characters of UTF-8 without control characters");
  }
  *out = value;
  return true;
}

bool FlagValues::Region(absl::string_view name, bool required, std::string* out) const {
  std::string value;
  if (!Text(name, required, &value)) return false;
  if (value.empty()) return true;
  value = absl::AsciiStrToUpper(value);
  if (!IsValidRegion(value)) {
    return FlagError(name, "must be a US state code, DC or PR (e.g. FL)");
  }
  *out = value;
  return true;
}

bool FlagValues::Regions(absl::string_view name, std::vector<std::string>* out) const {
  if (!Has(name)) return true;
  const std::string value = absl::AsciiStrToUpper(Get(name));
  std::vector<std::string> regions;
  if (!value.empty() && value != "ALL") {
    std::set<std::string> seen;
    for (absl::string_view part : absl::StrSplit(value, ',')) {
      const std::string region(absl::StripAsciiWhitespace(part));
      if (!IsValidRegion(region)) {
        return FlagError(name, "each region must be a US state code, DC or PR (e.g. FL,GA)");
      }
      if (!seen.insert(region).second) return FlagError(name, "names a region twice");
      regions.push_back(region);
    }
  }
  *out = std::move(regions);
  return true;
}

bool FlagValues::List(absl::string_view name, std::vector<std::string>* out) const {
  if (!Has(name)) return true;
  std::vector<std::string> items;
  for (absl::string_view part : absl::StrSplit(Get(name), ',')) {
    const absl::string_view item = absl::StripAsciiWhitespace(part);
    if (item.empty()) return FlagError(name, "has an empty item");
    items.emplace_back(item);
  }
  *out = std::move(items);
  return true;
}

bool FlagValues::Uint32(absl::string_view name, uint32_t* out) const {
  if (!Has(name)) return true;
  uint32_t value = 0;
  if (!absl::SimpleAtoi(Get(name), &value)) {
    return FlagError(name, "must be a whole number from 0 to 4294967295");
  }
  *out = value;
  return true;
}

bool FlagValues::Uint64(absl::string_view name, uint64_t* out) const {
  if (!Has(name)) return true;
  uint64_t value = 0;
  if (!absl::SimpleAtoi(Get(name), &value)) return FlagError(name, "must be a whole number");
  *out = value;
  return true;
}

bool FlagValues::PageSize(absl::string_view name, int32_t* out) const {
  if (!Has(name)) return true;
  int32_t value = 0;
  if (!absl::SimpleAtoi(Get(name), &value) || value < 1 || value > kMaxPageSize) {
    return FlagError(name, "must be a whole number from 1 to 1000");
  }
  *out = value;
  return true;
}

bool FlagValues::Bool(absl::string_view name) const {
  return Has(name) && ParseBool(Get(name)).value_or(false);
}

bool FlagValues::Enum(absl::string_view name, const google::protobuf::EnumDescriptor* type,
                      bool required, int* out) const {
  std::string value;
  if (!Text(name, required, &value)) return false;
  if (value.empty()) return true;
  const std::optional<int> parsed = ParseEnumLabel(type, value);
  if (!parsed.has_value()) return FlagError(name, "must be one of " + EnumChoices(type));
  *out = *parsed;
  return true;
}

}  // namespace intake::ctl
