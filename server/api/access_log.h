// intaked's log lines: one access-log line per call (through a server interceptor), and the
// start-up and drain lines, all in one format: JSON lines (--log_format=json) or text. Lines
// carry ids, codes and addresses, never personal data: nothing from a request is logged but
// the lead id it names, and that only in Intake's own syntax (a submission's request_id is
// not: a client may make it of the caller's number).
#ifndef INTAKE_SERVER_API_ACCESS_LOG_H_
#define INTAKE_SERVER_API_ACCESS_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <variant>

#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"
#include "server/api/auth.h"
#include "server/domain/clock.h"

namespace intake::api {

enum class LogFormat { kText, kJson };

// "text" or "json"; false for anything else.
bool ParseLogFormat(absl::string_view text, LogFormat* format);

// One field of a log line: a string or a number.
struct LogField {
  LogField(absl::string_view field_name, absl::string_view text) : name(field_name), value(text) {}
  LogField(absl::string_view field_name, const char* text)
      : name(field_name), value(absl::string_view(text)) {}
  LogField(absl::string_view field_name, const std::string& text)
      : name(field_name), value(absl::string_view(text)) {}
  LogField(absl::string_view field_name, double number) : name(field_name), value(number) {}
  LogField(absl::string_view field_name, int64_t number) : name(field_name), value(number) {}
  LogField(absl::string_view field_name, int number)
      : name(field_name), value(static_cast<int64_t>(number)) {}

  absl::string_view name;
  std::variant<absl::string_view, double, int64_t> value;
};

// Writes whole lines to a file descriptor, each with one write(2) so that lines from
// concurrent calls never interleave. A line is `{"time": ..., "msg": <msg>, <fields>}` in JSON,
// or `intaked: <msg> name=value ... time=...` in text (a value with a space, quote, '=' or
// control character is written as a JSON string). Time is UTC with microseconds. Thread-safe;
// `clock` must outlive the log.
class EventLog {
 public:
  EventLog(LogFormat format, const Clock* clock, int fd = 2)
      : format_(format), clock_(*clock), fd_(fd) {}

  void Write(absl::string_view msg, std::initializer_list<LogField> fields) const;
  // The line Write would write, without its newline.
  std::string Format(absl::string_view msg, std::initializer_list<LogField> fields) const;

 private:
  const LogFormat format_;
  const Clock& clock_;
  const int fd_;
};

// Records on `context` who the caller is, for its access-log line: "admin",
// "provider:<provider id>" or "intake_key" (a public call has none). Never a token. Called by
// the authentication gate once a call is admitted.
void NotePrincipal(grpc::ServerContextBase* context, const Principal& principal);

// One per server (ServerBuilder::experimental().SetInterceptorCreators): writes one "access"
// line per call when its status is sent (or, for a call gRPC ends without one, when it is
// destroyed) with the method, gRPC code, latency in milliseconds, peer address, principal,
// and the call's ids: lead_id from the request (only when it has the syntax Intake gives
// lead ids, so that no stray input reaches the log), submission_id from SubmitCallback's
// response (the same for every retry of a request_id, which is not logged). `log` must outlive the
// server.
class AccessLogInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AccessLogInterceptorFactory(const EventLog* log) : log_(*log) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  const EventLog& log_;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_ACCESS_LOG_H_
