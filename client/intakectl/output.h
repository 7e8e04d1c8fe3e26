// What intakectl prints: aligned tables and "key: value" records for people, protobuf JSON for
// scripts, and the masking of personal data in the former.
#ifndef INTAKE_CLIENT_INTAKECTL_OUTPUT_H_
#define INTAKE_CLIENT_INTAKECTL_OUTPUT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"

namespace intake::ctl {

// Columns separated by two spaces, each as wide as its widest cell (counted in code points,
// so "•" is one); the last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // `cells` has one entry per header.
  void AddRow(std::vector<std::string> cells);
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // The headers first.
};

// The width of `text` on a terminal, taken as its number of code points: "•" is one.
size_t DisplayWidth(absl::string_view text);

// "key:  value" lines with the values aligned.
using Record = std::vector<std::pair<std::string, std::string>>;
void PrintRecord(const Record& record, std::ostream& out);

// `message` in the protobuf JSON mapping with every field present (zeros included), on several
// indented lines (`multiline`) or one. Prints "{}" if the message cannot be converted, which
// only a message with unknown Any types could cause.
std::string ToJson(const google::protobuf::Message& message, bool multiline);

// Prints `message` to stdout as one JSON document.
void PrintJson(const google::protobuf::Message& message);

// A phone number for a table: "+1 ••• ••• 0123" (country code and last four digits) unless
// `show_pii`; "" stays "".
std::string ShowPhone(absl::string_view phone, bool show_pii);

// Other personal data (a name, postal code, message) for a table: "•••" unless `show_pii`;
// "" stays "".
std::string ShowPii(absl::string_view text, bool show_pii);

// "2024-05-01 13:45:12 UTC"; "-" for an unset timestamp.
std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp);

// Measured response figures (ResponseStats, ProviderStats): "about 1m5s", "100%"; "-" for
// both when `sample_size` is 0, since the figures then mean nothing.
std::string FormatMedianResponse(double median_seconds, uint32_t sample_size);
std::string FormatResponseRate(double rate, uint32_t sample_size);

// `text`, or "-" when it is empty.
std::string OrDash(absl::string_view text);

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_OUTPUT_H_
