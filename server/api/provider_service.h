// ProviderService: a provider's own leads, scoped by its token; another provider's lead is
// NOT_FOUND on every RPC, exactly like an unknown id.
#ifndef INTAKE_SERVER_API_PROVIDER_SERVICE_H_
#define INTAKE_SERVER_API_PROVIDER_SERVICE_H_

#include "intake/v1/provider_service.grpc.pb.h"
#include "server/api/lead_stream.h"
#include "server/api/paging.h"
#include "server/api/response_figures_cache.h"
#include "server/api/rpc_gate.h"
#include "server/store/storage.h"

namespace intake::api {

class ProviderServiceImpl final : public v1::ProviderService::CallbackService {
 public:
  // Nothing is owned; everything must outlive the service.
  ProviderServiceImpl(RpcGate* gate, store::Storage* store, const LeadStreamContext& streams,
                      ResponseFiguresCache* figures, const PageTokens* page_tokens)
      : gate_(*gate),
        store_(*store),
        streams_(streams),
        figures_(*figures),
        page_tokens_(*page_tokens) {}

  grpc::ServerWriteReactor<v1::SubscribeLeadsResponse>* SubscribeLeads(
      grpc::CallbackServerContext* context, const v1::SubscribeLeadsRequest* request) override;
  grpc::ServerUnaryReactor* AcknowledgeLead(grpc::CallbackServerContext* context,
                                            const v1::AcknowledgeLeadRequest* request,
                                            v1::AcknowledgeLeadResponse* response) override;
  grpc::ServerUnaryReactor* RecordContactAttempt(
      grpc::CallbackServerContext* context, const v1::RecordContactAttemptRequest* request,
      v1::RecordContactAttemptResponse* response) override;
  grpc::ServerUnaryReactor* ListLeads(grpc::CallbackServerContext* context,
                                      const v1::ListLeadsRequest* request,
                                      v1::ListLeadsResponse* response) override;
  grpc::ServerUnaryReactor* GetLead(grpc::CallbackServerContext* context,
                                    const v1::GetLeadRequest* request,
                                    v1::GetLeadResponse* response) override;

 private:
  RpcGate& gate_;
  store::Storage& store_;
  const LeadStreamContext streams_;
  ResponseFiguresCache& figures_;
  const PageTokens& page_tokens_;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_PROVIDER_SERVICE_H_
