// Opening hours on the command line: "mon-fri@09:00-17:00,sat@10:00-14:00", or "always" for
// none (always open). Days are mon..sun, alone or as a range; times are local HH:MM in the
// provider's time zone, close after open, "24:00" for midnight at the end of the day. The
// same text comes back in tables, so a printed value can be pasted into --hours.
#ifndef INTAKE_CLIENT_INTAKECTL_HOURS_H_
#define INTAKE_CLIENT_INTAKECTL_HOURS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_field.h"
#include "intake/v1/provider.pb.h"

namespace intake::ctl {

// Parses `text` into one period per day. Returns false with *error (a description for people)
// when it is malformed; overlaps are left to the server.
bool ParseHours(absl::string_view text, std::vector<v1::OpeningPeriod>* periods,
                std::string* error);

// The periods as ParseHours reads them, days with equal hours merged into ranges; "always"
// when there are none.
std::string FormatHours(const google::protobuf::RepeatedPtrField<v1::OpeningPeriod>& periods);

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_HOURS_H_
