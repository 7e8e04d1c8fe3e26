// IntakeService: the public API that treatment-finder pages call.
#ifndef INTAKE_SERVER_API_INTAKE_SERVICE_H_
#define INTAKE_SERVER_API_INTAKE_SERVICE_H_

#include "intake/v1/intake_service.grpc.pb.h"
#include "server/api/in_flight_limit.h"
#include "server/api/metrics.h"
#include "server/api/rate_limiter.h"
#include "server/api/response_figures_cache.h"
#include "server/api/rpc_gate.h"
#include "server/domain/submission.h"
#include "server/store/storage.h"

namespace intake::api {

class IntakeServiceImpl final : public v1::IntakeService::CallbackService {
 public:
  // None is owned; all must outlive the service. `metrics` may be null (metrics off).
  // `limiter` may be null (no rate limits). `pending` bounds the calls waiting for their
  // commit; the services of both listeners share it.
  IntakeServiceImpl(RpcGate* gate, store::Storage* store, const PhoneNormalizer* phones,
                    ResponseFiguresCache* figures, Metrics* metrics, RateLimiter* limiter,
                    InFlightLimit* pending)
      : gate_(*gate),
        store_(*store),
        phones_(*phones),
        figures_(*figures),
        metrics_(metrics),
        limiter_(limiter),
        pending_(*pending) {}

  // Takes a token from the caller's rate-limit bucket (RESOURCE_EXHAUSTED with a RetryInfo when
  // empty): the client is the peer address, or form.client_ip when the call carries a valid
  // intake key (a gateway submitting for many people; without client_ip, the gateway
  // itself). Then validates on the gRPC thread (CPU only) and hands the submission to the
  // store's group commit; the reply is sent from the writer's reply thread once the lead is
  // on disk.
  // A valid submission that finds every place of `pending` taken is shed: UNAVAILABLE at
  // once, nothing stored, counted as "shed" (the writer is behind; retrying later with the
  // same request_id is safe).
  // Every call that passes authentication counts in StatsTotals: accepted ones in the
  // submit's own transaction, refused ones through Storage::CountRefusedSubmission.
  grpc::ServerUnaryReactor* SubmitCallback(grpc::CallbackServerContext* context,
                                           const v1::SubmitCallbackRequest* request,
                                           v1::SubmitCallbackResponse* response) override;
  grpc::ServerUnaryReactor* GetResponseStats(grpc::CallbackServerContext* context,
                                             const v1::GetResponseStatsRequest* request,
                                             v1::GetResponseStatsResponse* response) override;

 private:
  RpcGate& gate_;
  store::Storage& store_;
  const PhoneNormalizer& phones_;
  ResponseFiguresCache& figures_;
  Metrics* const metrics_;
  RateLimiter* const limiter_;
  InFlightLimit& pending_;

  // Finishes a refused SubmitCallback with `status`, counting it first (with the fields of a
  // validation failure): the one way a refusal leaves this service, shedding aside.
  void Refuse(grpc::ServerUnaryReactor* reactor, const absl::Status& status,
              const FieldViolations& fields = {});
  // Finishes a valid SubmitCallback that found no place in `pending_` with UNAVAILABLE,
  // counted as shed.
  void Shed(grpc::ServerUnaryReactor* reactor);
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_INTAKE_SERVICE_H_
