#include "server/api/intake_service.h"

#include <utility>

#include "server/api/convert.h"
#include "server/api/status.h"
#include "server/domain/provider.h"
#include "server/domain/status_macros.h"

namespace intake::api {

// RESOURCE_EXHAUSTED here can only be the rate limit's (gRPC refuses an oversized request
// before any handler runs).
void IntakeServiceImpl::Refuse(grpc::ServerUnaryReactor* reactor, const absl::Status& status,
                               const FieldViolations& fields) {
  store::RefusedSubmission kind = store::RefusedSubmission::kOther;
  if (absl::IsInvalidArgument(status)) kind = store::RefusedSubmission::kInvalid;
  if (absl::IsResourceExhausted(status)) kind = store::RefusedSubmission::kRateLimited;
  store_.CountRefusedSubmission(kind);
  if (metrics_ != nullptr) metrics_->CountRefusedSubmission(status, fields);
  reactor->Finish(ToGrpcStatus(status));
}

void IntakeServiceImpl::Shed(grpc::ServerUnaryReactor* reactor) {
  store_.CountRefusedSubmission(store::RefusedSubmission::kOther);
  if (metrics_ != nullptr) metrics_->CountShedSubmission();
  reactor->Finish(ToGrpcStatus(
      absl::UnavailableError("more submissions are waiting for the database than this server "
                             "queues; retry shortly with the same request_id")));
}

grpc::ServerUnaryReactor* IntakeServiceImpl::SubmitCallback(
    grpc::CallbackServerContext* context, const v1::SubmitCallbackRequest* request,
    v1::SubmitCallbackResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::optional<Principal> principal = gate_.Admit(context, Access::kIntake, reactor);
  if (!principal) return reactor;
  if (limiter_ != nullptr) {
    const std::string& client_ip = request->form().client_ip();
    const bool for_someone_else =
        principal->kind == Principal::Kind::kIntakeKey && !client_ip.empty();
    if (std::optional<absl::Duration> retry =
            limiter_->Acquire(ClientKey(for_someone_else ? client_ip : context->peer()))) {
      Refuse(reactor, RateLimited(*retry));
      return reactor;
    }
  }

  Submission submission = FromProto(*request);
  if (FieldViolations violations = ValidateSubmission(submission, phones_); !violations.empty()) {
    Refuse(reactor, BadRequest(violations), violations);
    return reactor;
  }
  std::optional<InFlightLimit::Place> place = pending_.TryTake();
  if (!place) {
    Shed(reactor);
    return reactor;
  }
  const bool bot = IsBot(submission);
  const bool general = submission.listing_id.empty();
  store_.Submit(
      std::move(submission), bot, absl::FromChrono(context->deadline()),
      [this, reactor, response, general,
       place = *std::move(place)](absl::StatusOr<SubmitResult> result) mutable {
        // Given back before the reply: once the call has finished, the server (and the
        // limit) may be gone before the store destroys this function.
        { const InFlightLimit::Place committed = std::move(place); }
        if (!result.ok()) {
          // The store's only kInvalidArgument: a request_id reused for another
          // submission.
          if (absl::IsInvalidArgument(result.status())) {
            const FieldViolations fields = {{"request_id", std::string(result.status().message())}};
            Refuse(reactor, BadRequest(fields), fields);
          } else {
            Refuse(reactor, result.status());
          }
          return;
        }
        if (metrics_ != nullptr) metrics_->CountSubmission(*result);
        // The same reply whatever the outcome: new lead, duplicate, bot or replay.
        response->set_submission_id(result->submission_id);
        // The target's figures as the refresher last computed them: a map look-up.
        // The listing's owner comes from the store, so a listing newer than the
        // snapshot gets its owner's figures too.
        if (std::shared_ptr<const ResponseFiguresCache::Snapshot> snapshot = figures_.Latest()) {
          ToProto(general ? snapshot->general
                          : ResponseFiguresCache::ForProvider(*snapshot, result->listing_owner),
                  response->mutable_typical_response());
        }
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* IntakeServiceImpl::GetResponseStats(
    grpc::CallbackServerContext* context, const v1::GetResponseStatsRequest* request,
    v1::GetResponseStatsResponse* response) {
  return gate_.Unary(context, Access::kIntake, [=](const Principal&) -> absl::Status {
    const std::string& listing_id = request->listing_id();
    if (!listing_id.empty() && !IsValidId(listing_id)) {
      return BadRequest({{"listing_id", "must match [a-z0-9][a-z0-9-]{0,63}"}});
    }
    absl::StatusOr<std::shared_ptr<const ResponseFiguresCache::Snapshot>> snapshot =
        figures_.Fresh();
    if (!snapshot.ok()) return snapshot.status();
    const ResponseFigures* figures = ResponseFiguresCache::ForTarget(**snapshot, listing_id);
    if (figures == nullptr) {
      // A listing created since the snapshot (or none): one indexed look-up, never a rescan.
      INTAKE_ASSIGN_OR_RETURN(Listing listing, store_.GetListing(listing_id));
      figures = &ResponseFiguresCache::ForProvider(**snapshot, listing.provider_id);
    }
    ToProto(*figures, response->mutable_stats());
    return absl::OkStatus();
  });
}

}  // namespace intake::api
