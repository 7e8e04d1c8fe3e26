#include "client/intakectl/output.h"

#include <algorithm>
#include <cmath>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"

namespace intake::ctl {
namespace {

constexpr char kMask[] = "•••";
constexpr size_t kVisiblePhoneDigits = 4;

void PrintPadded(std::ostream& out, absl::string_view text, size_t width) {
  out << text;
  for (size_t w = DisplayWidth(text); w < width; ++w) out << ' ';
}

}  // namespace

size_t DisplayWidth(absl::string_view text) {
  // UTF-8 bytes that are not continuation bytes.
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

Table::Table(std::vector<std::string> headers) { rows_.push_back(std::move(headers)); }

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(rows_.front().size());
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(rows_.front().size(), 0);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i + 1 == row.size()) {
        out << row[i];
      } else {
        PrintPadded(out, row[i], widths[i]);
        out << "  ";
      }
    }
    out << "\n";
  }
}

void PrintRecord(const Record& record, std::ostream& out) {
  size_t width = 0;
  for (const auto& [key, value] : record) width = std::max(width, DisplayWidth(key) + 1);
  for (const auto& [key, value] : record) {
    PrintPadded(out, key + ":", width);
    out << "  " << value << "\n";
  }
}

std::string ToJson(const google::protobuf::Message& message, bool multiline) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = multiline;
  options.always_print_primitive_fields = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return "{}";
  // add_whitespace ends the document with a newline; one-line output has none.
  while (!json.empty() && json.back() == '\n') json.pop_back();
  return json;
}

void PrintJson(const google::protobuf::Message& message) {
  std::cout << ToJson(message, /*multiline=*/true) << "\n";
}

std::string ShowPhone(absl::string_view phone, bool show_pii) {
  if (show_pii || phone.empty()) return std::string(phone);
  std::string digits;
  for (const char c : phone) {
    if (absl::ascii_isdigit(c)) digits.push_back(c);
  }
  const std::string last =
      digits.size() > kVisiblePhoneDigits ? digits.substr(digits.size() - kVisiblePhoneDigits) : "";
  // E.164 NANP numbers (what the server returns) keep their country code.
  if (phone.size() == 12 && phone.substr(0, 2) == "+1") {
    return absl::StrCat("+1 ", kMask, " ", kMask, " ", last);
  }
  return absl::StrCat(kMask, " ", last);
}

std::string ShowPii(absl::string_view text, bool show_pii) {
  if (show_pii || text.empty()) return std::string(text);
  return kMask;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixSeconds(timestamp.seconds()),
                          absl::UTCTimeZone());
}

std::string FormatMedianResponse(double median_seconds, uint32_t sample_size) {
  if (sample_size == 0) return "-";
  return absl::StrCat("about ", absl::FormatDuration(absl::Seconds(std::round(median_seconds))));
}

std::string FormatResponseRate(double rate, uint32_t sample_size) {
  if (sample_size == 0) return "-";
  return absl::StrFormat("%.0f%%", rate * 100);
}

std::string OrDash(absl::string_view text) { return text.empty() ? "-" : std::string(text); }

}  // namespace intake::ctl
