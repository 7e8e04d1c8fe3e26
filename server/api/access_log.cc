#include "server/api/access_log.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/interceptor.h"
#include "intake/v1/intake_service.pb.h"
#include "nlohmann/json.hpp"

namespace intake::api {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The trailing-metadata entry through which the authentication gate tells this call's access
// log who called. The interceptor removes it before the trailers are sent.
constexpr char kPrincipalKey[] = "intake-access-principal";
constexpr char kSubmitMethod[] = "/intake.v1.IntakeService/SubmitCallback";

std::string Json(const nlohmann::ordered_json& value) {
  // Invalid UTF-8 becomes U+FFFD instead of an exception.
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A text value as it is if it cannot be mistaken for the next field, else as a JSON string.
std::string TextValue(absl::string_view value) {
  const bool plain = !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
    return c == ' ' || c == '"' || c == '=' || c == '\\' || absl::ascii_iscntrl(c);
  });
  return plain ? std::string(value) : Json(std::string(value));
}

// A lead id as the store makes them: "lead-" and 32 lowercase hex digits.
bool IsLeadId(absl::string_view id) {
  return absl::ConsumePrefix(&id, "lead-") && id.size() == 32 &&
         std::all_of(id.begin(), id.end(),
                     [](char c) { return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'); });
}

// The value of the top-level string field `name` of `message`; empty if it has none.
std::string StringField(const google::protobuf::Message& message, const char* name) {
  const google::protobuf::FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(name);
  if (field == nullptr || field->is_repeated() ||
      field->type() != google::protobuf::FieldDescriptor::TYPE_STRING) {
    return "";
  }
  return message.GetReflection()->GetString(message, field);
}

// Hook points of one call run one at a time, in order, so the members need no lock.
class AccessLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  AccessLogInterceptor(const EventLog& log, grpc::experimental::ServerRpcInfo* info)
      : log_(log),
        info_(info),
        method_(info->method()),
        // Intake's own methods that take one request message: it is a parsed protobuf
        // message by the time POST_RECV_MESSAGE runs. (gRPC's health service, say, receives
        // a ByteBuffer.)
        reads_request_(absl::StartsWith(method_, "/intake.v1.") &&
                       (info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY ||
                        info->type() == grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING)),
        is_submit_(absl::string_view(method_) == kSubmitMethod) {}

  // A call that gRPC ended without sending a status (the client went away first).
  ~AccessLogInterceptor() override {
    if (!logged_) Log(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      peer_ = info_->server_context()->peer();
    }
    if (reads_request_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      // A protobuf message of the method's request type (the services are all generated
      // ones); null if it did not parse.
      if (const void* message = methods->GetRecvMessage()) {
        const auto& request = *static_cast<const google::protobuf::Message*>(message);
        // Not a submission's request_id: its syntax ([A-Za-z0-9_-]) lets a client key its
        // requests by the caller's number, and the submission_id ties retries together.
        if (std::string id = StringField(request, "lead_id"); IsLeadId(id)) {
          lead_id_ = std::move(id);
        }
      }
    }
    if (is_submit_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      if (const void* message = methods->GetSendMessage()) {
        submission_id_ = static_cast<const v1::SubmitCallbackResponse*>(message)->submission_id();
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      std::multimap<std::string, std::string>* trailers = methods->GetSendTrailingMetadata();
      if (auto it = trailers->find(kPrincipalKey); it != trailers->end()) {
        principal_ = std::move(it->second);
        trailers->erase(it);
      }
      Log(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Log(grpc::StatusCode code) {
    logged_ = true;
    const double latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_)
            .count();
    const std::string code_name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
    // Round to the microsecond: enough for anyone, and short.
    const double rounded_ms = static_cast<double>(static_cast<int64_t>(latency_ms * 1000)) / 1000;
    const absl::string_view none = "-";
    log_.Write("access", {{"method", method_},
                          {"code", code_name},
                          {"latency_ms", rounded_ms},
                          {"peer", peer_.empty() ? none : peer_},
                          {"principal", principal_.empty() ? none : principal_},
                          {"submission_id", submission_id_.empty() ? none : submission_id_},
                          {"lead_id", lead_id_.empty() ? none : lead_id_}});
  }

  const EventLog& log_;
  grpc::experimental::ServerRpcInfo* const info_;
  const char* const method_;  // Owned by the server, which outlives its calls.
  const bool reads_request_;
  const bool is_submit_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  bool logged_ = false;
  std::string peer_;
  std::string principal_;
  std::string submission_id_;
  std::string lead_id_;
};

}  // namespace

bool ParseLogFormat(absl::string_view text, LogFormat* format) {
  if (text == "text") {
    *format = LogFormat::kText;
  } else if (text == "json") {
    *format = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

std::string EventLog::Format(absl::string_view msg, std::initializer_list<LogField> fields) const {
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", clock_.Now(), absl::UTCTimeZone());
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json line;
    line["time"] = time;
    line["msg"] = std::string(msg);
    for (const LogField& field : fields) {
      nlohmann::ordered_json& value = line[std::string(field.name)];
      if (const auto* text = std::get_if<absl::string_view>(&field.value)) {
        value = std::string(*text);
      } else if (const auto* integer = std::get_if<int64_t>(&field.value)) {
        value = *integer;
      } else {
        value = std::get<double>(field.value);
      }
    }
    return Json(line);
  }
  std::string line = absl::StrCat("intaked: ", msg);
  for (const LogField& field : fields) {
    absl::StrAppend(&line, " ", field.name, "=");
    if (const auto* text = std::get_if<absl::string_view>(&field.value)) {
      absl::StrAppend(&line, TextValue(*text));
    } else if (const auto* integer = std::get_if<int64_t>(&field.value)) {
      absl::StrAppend(&line, *integer);
    } else {
      absl::StrAppend(&line, std::get<double>(field.value));
    }
  }
  absl::StrAppend(&line, " time=", time);
  return line;
}

void EventLog::Write(absl::string_view msg, std::initializer_list<LogField> fields) const {
  const std::string line = Format(msg, fields) + "\n";
  // One write(2) per line: lines from concurrent calls stay whole. Short writes (a full pipe
  // interrupted by a signal) continue; a failed write is dropped, as there is nowhere to say so.
  for (size_t done = 0; done < line.size();) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

void NotePrincipal(grpc::ServerContextBase* context, const Principal& principal) {
  switch (principal.kind) {
    case Principal::Kind::kPublic:
      return;
    case Principal::Kind::kIntakeKey:
      context->AddTrailingMetadata(kPrincipalKey, "intake_key");
      return;
    case Principal::Kind::kAdmin:
      context->AddTrailingMetadata(kPrincipalKey, "admin");
      return;
    case Principal::Kind::kProvider:
      context->AddTrailingMetadata(kPrincipalKey, "provider:" + principal.provider_id);
      return;
  }
}

grpc::experimental::Interceptor* AccessLogInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new AccessLogInterceptor(log_, info);
}

}  // namespace intake::api
