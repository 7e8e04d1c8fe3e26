#include "server/api/intake_service.h"

#include <utility>

#include "server/api/convert.h"
#include "server/api/status.h"

namespace intake::api {

grpc::ServerUnaryReactor* IntakeServiceImpl::SubmitCallback(
    grpc::CallbackServerContext* context, const v1::SubmitCallbackRequest* request,
    v1::SubmitCallbackResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!gate_.Admit(context, Access::kIntake, reactor)) return reactor;

  Submission submission = FromProto(*request);
  if (FieldViolations violations = ValidateSubmission(submission, phones_); !violations.empty()) {
    ++counters_.invalid_submissions;
    reactor->Finish(ToGrpcStatus(BadRequest(violations)));
    return reactor;
  }
  const bool bot = IsBot(submission);
  store_.Submit(std::move(submission), bot,
                [reactor, response](absl::StatusOr<SubmitResult> result) {
                  if (!result.ok()) {
                    // The store's only kInvalidArgument: a request_id reused for another
                    // submission.
                    reactor->Finish(ToGrpcStatus(
                        absl::IsInvalidArgument(result.status())
                            ? BadRequest({{"request_id", std::string(result.status().message())}})
                            : result.status()));
                    return;
                  }
                  // The same reply whatever the outcome: new lead, duplicate, bot or replay.
                  response->set_submission_id(result->submission_id);
                  reactor->Finish(grpc::Status::OK);
                });
  return reactor;
}

}  // namespace intake::api
