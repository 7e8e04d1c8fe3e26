// Early-return helpers for absl::Status, which this Abseil (20220623) does not ship.
#ifndef INTAKE_SERVER_DOMAIN_STATUS_MACROS_H_
#define INTAKE_SERVER_DOMAIN_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function with `expr`'s status when it is not OK.
#define INTAKE_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status intake_status_ = (expr);          \
    if (!intake_status_.ok()) return intake_status_; \
  } while (false)

#define INTAKE_STATUS_CONCAT_INNER_(a, b) a##b
#define INTAKE_STATUS_CONCAT_(a, b) INTAKE_STATUS_CONCAT_INNER_(a, b)

// `INTAKE_ASSIGN_OR_RETURN(auto x, F());` declares x from F()'s value, or returns F()'s status.
#define INTAKE_ASSIGN_OR_RETURN(lhs, expr) \
  INTAKE_ASSIGN_OR_RETURN_IMPL_(INTAKE_STATUS_CONCAT_(intake_statusor_, __LINE__), lhs, expr)
// `lhs` is a declaration, which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define INTAKE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)
// NOLINTEND(bugprone-macro-parentheses)

#endif  // INTAKE_SERVER_DOMAIN_STATUS_MACROS_H_
