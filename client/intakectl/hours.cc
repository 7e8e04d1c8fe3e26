#include "client/intakectl/hours.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace intake::ctl {
namespace {

constexpr std::array<absl::string_view, 7> kDays = {"mon", "tue", "wed", "thu",
                                                    "fri", "sat", "sun"};
constexpr int kMinutesPerDay = 24 * 60;

// 1 (Monday) to 7, as v1::Weekday numbers them; 0 if `text` is no day.
int ParseDay(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (size_t i = 0; i < kDays.size(); ++i) {
    if (lower == kDays[i]) return static_cast<int>(i) + 1;
  }
  return 0;
}

// Minutes after midnight of "HH:MM" (00:00 to 24:00); -1 if malformed.
int ParseClock(absl::string_view text) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  int hours = 0;
  int minutes = 0;
  if (parts.size() != 2 || parts[0].empty() || parts[1].size() != 2 ||
      !absl::SimpleAtoi(parts[0], &hours) || !absl::SimpleAtoi(parts[1], &minutes) || hours < 0 ||
      minutes < 0 || minutes > 59 || hours * 60 + minutes > kMinutesPerDay) {
    return -1;
  }
  return hours * 60 + minutes;
}

std::string FormatClock(uint32_t minute) {
  return absl::StrFormat("%02d:%02d", minute / 60, minute % 60);
}

std::string DayName(int day) {
  return day >= 1 && day <= 7 ? std::string(kDays[day - 1]) : absl::StrCat("day", day);
}

}  // namespace

bool ParseHours(absl::string_view text, std::vector<v1::OpeningPeriod>* periods,
                std::string* error) {
  periods->clear();
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (absl::AsciiStrToLower(trimmed) == "always") return true;
  for (absl::string_view item : absl::StrSplit(trimmed, ',')) {
    item = absl::StripAsciiWhitespace(item);
    const std::vector<absl::string_view> day_and_span = absl::StrSplit(item, '@');
    if (day_and_span.size() != 2) {
      *error = "each entry must be DAYS@HH:MM-HH:MM, e.g. mon-fri@09:00-17:00 (or \"always\")";
      return false;
    }
    const std::vector<absl::string_view> days = absl::StrSplit(day_and_span[0], '-');
    const int first = ParseDay(days[0]);
    const int last = days.size() == 2 ? ParseDay(days[1]) : first;
    if (days.size() > 2 || first == 0 || last == 0 || last < first) {
      *error = "days must be one of mon..sun or a range such as mon-fri";
      return false;
    }
    const std::vector<absl::string_view> span = absl::StrSplit(day_and_span[1], '-');
    const int open = span.size() == 2 ? ParseClock(span[0]) : -1;
    const int close = span.size() == 2 ? ParseClock(span[1]) : -1;
    if (open < 0 || close < 0 || open >= close) {
      *error = "times must be HH:MM-HH:MM with the close after the open (24:00 is midnight)";
      return false;
    }
    for (int day = first; day <= last; ++day) {
      v1::OpeningPeriod period;
      period.set_day_of_week(static_cast<v1::Weekday>(day));
      period.set_open_minute(open);
      period.set_close_minute(close);
      periods->push_back(period);
    }
  }
  return true;
}

std::string FormatHours(const google::protobuf::RepeatedPtrField<v1::OpeningPeriod>& periods) {
  if (periods.empty()) return "always";
  // (open, close) -> the days open then, in order.
  std::map<std::pair<uint32_t, uint32_t>, std::vector<int>> days_by_span;
  for (const v1::OpeningPeriod& p : periods) {
    days_by_span[{p.open_minute(), p.close_minute()}].push_back(p.day_of_week());
  }
  // (first day, open) -> "mon-fri@09:00-17:00", so entries come out in weekly order.
  std::map<std::pair<int, uint32_t>, std::string> entries;
  for (auto& [span, days] : days_by_span) {
    std::sort(days.begin(), days.end());
    const std::string times = absl::StrCat(FormatClock(span.first), "-", FormatClock(span.second));
    for (size_t i = 0; i < days.size();) {
      size_t j = i;
      while (j + 1 < days.size() && days[j + 1] == days[j] + 1) ++j;
      const std::string range =
          i == j ? DayName(days[i]) : absl::StrCat(DayName(days[i]), "-", DayName(days[j]));
      entries[{days[i], span.first}] = absl::StrCat(range, "@", times);
      i = j + 1;
    }
  }
  std::vector<std::string> parts;
  parts.reserve(entries.size());
  for (const auto& [key, entry] : entries) parts.push_back(entry);
  return absl::StrJoin(parts, ",");
}

}  // namespace intake::ctl
