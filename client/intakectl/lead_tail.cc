// leads tail: follows the lead event log live (AdminService.WatchLeads, or with --as_provider
// ProviderService.SubscribeLeads), reconnecting from its cursor after a drop.
#include <algorithm>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/intakectl/command.h"
#include "client/intakectl/connection.h"
#include "client/intakectl/cursor_file.h"
#include "client/intakectl/exit_codes.h"
#include "client/intakectl/interrupt_watcher.h"
#include "client/intakectl/lead_view.h"
#include "client/intakectl/output.h"
#include "client/intakectl/rpc_error.h"
#include "grpcpp/support/sync_stream.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"

namespace intake::ctl {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);
constexpr absl::Duration kConnectPollInterval = absl::Milliseconds(100);

// One message of either stream, through the fields both have.
struct TailEvent {
  uint64_t sequence = 0;
  v1::LeadEventType type = v1::LEAD_EVENT_TYPE_UNSPECIFIED;
  const v1::Lead* lead = nullptr;
  std::string provider_id;
  uint64_t head_sequence = 0;
  std::string instance_id;
  // The whole message, for JSON output. Valid until the next Next().
  const google::protobuf::Message* message = nullptr;
};

// A lead event stream, WatchLeads or SubscribeLeads; one call at a time.
class EventStream {
 public:
  virtual ~EventStream() = default;
  // Starts a call on `context` that replays every event after `after_sequence`, then goes live.
  virtual void Start(grpc::ClientContext* context, uint64_t after_sequence) = 0;
  // Reads the next message into *event; false once the call has ended.
  virtual bool Next(TailEvent* event) = 0;
  // The call's status; only after Next() returned false.
  virtual grpc::Status Finish() = 0;
};

std::string ProviderOf(const v1::WatchLeadsResponse& r) { return r.provider_id(); }
std::string ProviderOf(const v1::SubscribeLeadsResponse& r) { return r.lead().provider_id(); }

template <typename Stub, typename Request, typename Response>
class ServerStream final : public EventStream {
 public:
  using Method = std::unique_ptr<grpc::ClientReader<Response>> (Stub::*)(grpc::ClientContext*,
                                                                         const Request&);

  ServerStream(const std::shared_ptr<grpc::Channel>& channel, Method method)
      : stub_(channel), method_(method) {}

  void Start(grpc::ClientContext* context, uint64_t after_sequence) override {
    Request request;
    request.set_after_sequence(after_sequence);
    reader_ = (stub_.*method_)(context, request);
  }

  bool Next(TailEvent* event) override {
    if (!reader_->Read(&response_)) return false;
    event->sequence = response_.sequence();
    event->type = response_.type();
    event->lead = response_.has_lead() ? &response_.lead() : nullptr;
    event->provider_id = ProviderOf(response_);
    event->head_sequence = response_.head_sequence();
    event->instance_id = response_.instance_id();
    event->message = &response_;
    return true;
  }

  grpc::Status Finish() override {
    grpc::Status status = reader_->Finish();
    reader_.reset();
    return status;
  }

 private:
  Stub stub_;
  Method method_;
  std::unique_ptr<grpc::ClientReader<Response>> reader_;
  Response response_;
};

// Prints events: one line each for people, one JSON object per line for scripts.
class EventPrinter {
 public:
  EventPrinter(bool json, bool show_pii) : json_(json), show_pii_(show_pii) {}

  void Print(const TailEvent& e) {
    if (json_) {
      std::cout << ToJson(*e.message, /*multiline=*/false) << std::endl;
      return;
    }
    if (!header_printed_) {
      Line({"SEQUENCE", "EVENT", "LEAD", "STATE", "PROVIDER", "LISTING", "PHONE", "REGION"});
      header_printed_ = true;
    }
    if (e.type == v1::LEAD_EVENT_TYPE_HEARTBEAT) {
      Line({"-", EventTypeLabel(e.type), absl::StrCat("head=", e.head_sequence),
            absl::StrCat("instance=", e.instance_id)});
      return;
    }
    const v1::Lead& lead = e.lead != nullptr ? *e.lead : v1::Lead::default_instance();
    Line({std::to_string(e.sequence), EventTypeLabel(e.type), OrDash(lead.lead_id()),
          LeadStateLabel(lead.state()), OrDash(e.provider_id), OrDash(lead.listing_id()),
          OrDash(ShowPhone(lead.caller().phone(), show_pii_)), OrDash(lead.caller().region())});
  }

 private:
  // Fixed widths, since a stream cannot be measured before it is printed; a longer value just
  // pushes the rest of its line to the right.
  static void Line(const std::vector<std::string>& cells) {
    static constexpr size_t kWidths[] = {9, 16, 30, 13, 18, 18, 16};
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      absl::StrAppend(&line, cells[i]);
      if (i + 1 < cells.size()) {
        const size_t width = i < std::size(kWidths) ? kWidths[i] : 0;
        const size_t shown = DisplayWidth(cells[i]);
        line.append((width > shown ? width - shown : 0) + 1, ' ');
      }
    }
    std::cout << line << std::endl;
  }

  const bool json_;
  const bool show_pii_;
  bool header_printed_ = false;
};

struct TailOptions {
  Cursor start;
  std::string cursor_file;  // Empty: none.
  uint64_t max_events = 0;  // 0: no limit.
  bool verbose = false;
};

// Errors worth a reconnect: the server went away or is draining, the network broke. The rest
// (a bad token, a cursor beyond the log, an unknown method) would fail again.
bool IsRetryable(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:  // The server ended a stream that never ends: resume.
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::CANCELLED:
      return true;
    default:
      return false;
  }
}

// Waits up to the connection's timeout for the first connection, in short slices so that an
// interrupt is not kept waiting.
bool WaitForFirstConnection(const Connection& connection, const InterruptWatcher& interrupt) {
  const absl::Time deadline = absl::Now() + connection.timeout();
  while (!interrupt.interrupted()) {
    const absl::Time slice_end = std::min(deadline, absl::Now() + kConnectPollInterval);
    if (connection.channel()->WaitForConnected(absl::ToChronoTime(slice_end))) return true;
    if (absl::Now() >= deadline) return false;
  }
  return true;
}

class Follower {
 public:
  Follower(const TailOptions& options, const Connection& connection, EventStream* stream,
           InterruptWatcher* interrupt, EventPrinter* printer)
      : options_(options),
        connection_(connection),
        stream_(stream),
        interrupt_(interrupt),
        printer_(printer),
        cursor_(options.start) {}

  // Follows the stream until interrupted (kExitOk), max_events are printed (kExitOk), or a
  // failure that a reconnect would not cure (its exit code).
  int Run() {
    absl::Duration backoff = kFirstBackoff;
    while (true) {
      std::unique_ptr<grpc::ClientContext> context = connection_.StreamContext();
      if (!interrupt_->SetCurrentCall(context.get())) return kExitOk;
      stream_->Start(context.get(), cursor_.sequence);
      Outcome outcome = Outcome::kReconnect;
      TailEvent event;
      while (outcome == Outcome::kReconnect && stream_->Next(&event)) {
        backoff = kFirstBackoff;  // The stream works: a later drop starts the backoff afresh.
        outcome = Handle(event);
      }
      if (outcome != Outcome::kReconnect) {
        context->TryCancel();
        while (stream_->Next(&event)) {
        }
      }
      const grpc::Status status = stream_->Finish();
      interrupt_->SetCurrentCall(nullptr);
      if (interrupt_->interrupted() || outcome == Outcome::kDone) return kExitOk;
      if (outcome == Outcome::kFailed) return kExitFailed;
      if (outcome == Outcome::kRestart) continue;
      if (!IsRetryable(status.error_code())) return ReportFatal(status);
      std::cerr << "intakectl: stream ended (" << StatusCodeName(status.error_code()) << ": "
                << status.error_message() << "); reconnecting in " << absl::FormatDuration(backoff)
                << " after sequence " << cursor_.sequence << "\n";
      interrupt_->SleepFor(backoff);
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

 private:
  enum class Outcome { kReconnect, kRestart, kDone, kFailed };

  // Processes one message; anything but kReconnect ends the current call.
  Outcome Handle(const TailEvent& event) {
    if (event.type == v1::LEAD_EVENT_TYPE_HEARTBEAT) {
      if (options_.verbose) printer_->Print(event);
      return CheckInstance(event.instance_id);
    }
    // Delivery is at least once: skip what was already processed.
    if (event.sequence <= cursor_.sequence) return Outcome::kReconnect;
    printer_->Print(event);
    cursor_.sequence = event.sequence;
    if (!Save()) return Outcome::kFailed;
    ++printed_;
    if (options_.max_events != 0 && printed_ >= options_.max_events) return Outcome::kDone;
    return Outcome::kReconnect;
  }

  // Cursors mean something only against the database that issued them.
  Outcome CheckInstance(const std::string& instance_id) {
    if (instance_id.empty() || instance_id == cursor_.instance_id) return Outcome::kReconnect;
    const bool changed = !cursor_.instance_id.empty();
    if (changed) {
      std::cerr << "intakectl: the server's database changed (instance " << cursor_.instance_id
                << " -> " << instance_id << "); its sequences start over: replaying from 0\n";
      cursor_.sequence = 0;
    }
    cursor_.instance_id = instance_id;
    if (!Save()) return Outcome::kFailed;
    return changed ? Outcome::kRestart : Outcome::kReconnect;
  }

  bool Save() {
    if (options_.cursor_file.empty()) return true;
    std::string error;
    if (SaveCursor(options_.cursor_file, cursor_, &error)) return true;
    std::cerr << "intakectl: --cursor_file: " << error << "\n";
    return false;
  }

  int ReportFatal(const grpc::Status& status) {
    const int exit_code = ReportRpcError(status, connection_.address());
    if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
      std::cerr << "  (sequence " << cursor_.sequence
                << " is beyond the server's newest event: a cursor from another database? "
                   "start again with --after_sequence=0)\n";
    }
    return exit_code;
  }

  const TailOptions& options_;
  const Connection& connection_;
  EventStream* const stream_;
  InterruptWatcher* const interrupt_;
  EventPrinter* const printer_;
  Cursor cursor_;
  uint64_t printed_ = 0;
};

int TailLeads(const Invocation& run) {
  TailOptions options;
  options.verbose = run.global.verbose;
  if (!run.flags.Text("cursor_file", /*required=*/false, &options.cursor_file) ||
      !run.flags.Uint64("max_events", &options.max_events)) {
    return kExitUsage;
  }
  if (!options.cursor_file.empty()) {
    std::string error;
    if (!LoadCursor(options.cursor_file, &options.start, &error)) {
      UsageError("--cursor_file: " + error);
      return kExitUsage;
    }
  }
  if (!run.flags.Uint64("after_sequence", &options.start.sequence)) return kExitUsage;

  const bool as_provider = run.flags.Bool("as_provider");
  InterruptWatcher interrupt;  // Before the first gRPC object: see its constructor.
  const std::optional<Connection> connection =
      Connection::Open(run.global, as_provider ? Listener::kPublic : Listener::kAdmin,
                       as_provider ? Credential::kProviderToken : Credential::kAdminToken);
  if (!connection) return kExitUsage;
  if (!WaitForFirstConnection(*connection, interrupt)) {
    std::cerr << "intakectl: " << connection->address() << ": cannot connect within "
              << absl::FormatDuration(connection->timeout()) << "\n";
    return kExitUnreachable;
  }
  std::unique_ptr<EventStream> stream;
  if (as_provider) {
    stream = std::make_unique<ServerStream<v1::ProviderService::Stub, v1::SubscribeLeadsRequest,
                                           v1::SubscribeLeadsResponse>>(
        connection->channel(), &v1::ProviderService::Stub::SubscribeLeads);
  } else {
    stream = std::make_unique<
        ServerStream<v1::AdminService::Stub, v1::WatchLeadsRequest, v1::WatchLeadsResponse>>(
        connection->channel(), &v1::AdminService::Stub::WatchLeads);
  }
  EventPrinter printer(run.json(), run.global.show_pii);
  return Follower(options, *connection, stream.get(), &interrupt, &printer).Run();
}

}  // namespace

Command LeadTailCommand() {
  return {"leads",
          "tail",
          "Follow lead events as they happen; resumes from its cursor after a drop. Ctrl-C stops.",
          "intakectl leads tail --as_provider --token_file=acme.token --cursor_file=acme.cursor",
          {{"as_provider", "",
            "follow one provider's stream (ProviderService.SubscribeLeads, public listener, "
            "provider token) instead of every event (AdminService.WatchLeads)"},
           {"cursor_file", "PATH",
            "resume after the sequence stored here, and store each event's sequence in it"},
           {"after_sequence", "N",
            "start after this sequence (default: the cursor file, or 0: "
            "the whole log)"},
           {"max_events", "N", "exit after printing N events (heartbeats not counted)"}},
          TailLeads};
}

}  // namespace intake::ctl
