// A bad field in a request, as domain validation reports it. The api layer turns a list of
// them into INVALID_ARGUMENT with a google.rpc.BadRequest.
#ifndef INTAKE_SERVER_DOMAIN_FIELD_VIOLATION_H_
#define INTAKE_SERVER_DOMAIN_FIELD_VIOLATION_H_

#include <string>
#include <vector>

namespace intake {

struct FieldViolation {
  // The field's path in the API, e.g. "caller.phone", "hours[2].close_minute".
  std::string field;
  // What is wrong, for a person. Never contains the submitted value.
  std::string description;

  friend bool operator==(const FieldViolation& a, const FieldViolation& b) {
    return a.field == b.field && a.description == b.description;
  }
};

using FieldViolations = std::vector<FieldViolation>;

}  // namespace intake

#endif  // INTAKE_SERVER_DOMAIN_FIELD_VIOLATION_H_
