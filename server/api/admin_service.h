// AdminService: providers, listings, tokens, leads, privacy requests and stats.
#ifndef INTAKE_SERVER_API_ADMIN_SERVICE_H_
#define INTAKE_SERVER_API_ADMIN_SERVICE_H_

#include "intake/v1/admin_service.grpc.pb.h"
#include "server/api/intake_service.h"
#include "server/api/lead_stream.h"
#include "server/api/paging.h"
#include "server/api/response_figures_cache.h"
#include "server/api/rpc_gate.h"
#include "server/store/storage.h"

namespace intake::api {

class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  // Nothing is owned; everything must outlive the service.
  AdminServiceImpl(RpcGate* gate, store::Storage* store, const PhoneNormalizer* phones,
                   const Clock* clock, const LeadStreamContext& streams,
                   ResponseFiguresCache* figures, const PageTokens* page_tokens)
      : gate_(*gate),
        store_(*store),
        phones_(*phones),
        clock_(*clock),
        streams_(streams),
        figures_(*figures),
        page_tokens_(*page_tokens) {}

  grpc::ServerUnaryReactor* CreateProvider(grpc::CallbackServerContext* context,
                                           const v1::CreateProviderRequest* request,
                                           v1::CreateProviderResponse* response) override;
  grpc::ServerUnaryReactor* UpdateProvider(grpc::CallbackServerContext* context,
                                           const v1::UpdateProviderRequest* request,
                                           v1::UpdateProviderResponse* response) override;
  grpc::ServerUnaryReactor* GetProvider(grpc::CallbackServerContext* context,
                                        const v1::GetProviderRequest* request,
                                        v1::GetProviderResponse* response) override;
  grpc::ServerUnaryReactor* ListProviders(grpc::CallbackServerContext* context,
                                          const v1::ListProvidersRequest* request,
                                          v1::ListProvidersResponse* response) override;
  grpc::ServerUnaryReactor* IssueProviderToken(grpc::CallbackServerContext* context,
                                               const v1::IssueProviderTokenRequest* request,
                                               v1::IssueProviderTokenResponse* response) override;
  grpc::ServerUnaryReactor* RevokeProviderToken(grpc::CallbackServerContext* context,
                                                const v1::RevokeProviderTokenRequest* request,
                                                v1::RevokeProviderTokenResponse* response) override;
  grpc::ServerUnaryReactor* CreateListing(grpc::CallbackServerContext* context,
                                          const v1::CreateListingRequest* request,
                                          v1::CreateListingResponse* response) override;
  grpc::ServerUnaryReactor* ListListings(grpc::CallbackServerContext* context,
                                         const v1::ListListingsRequest* request,
                                         v1::ListListingsResponse* response) override;
  grpc::ServerUnaryReactor* ListLeads(grpc::CallbackServerContext* context,
                                      const v1::AdminServiceListLeadsRequest* request,
                                      v1::AdminServiceListLeadsResponse* response) override;
  grpc::ServerUnaryReactor* GetLead(grpc::CallbackServerContext* context,
                                    const v1::AdminServiceGetLeadRequest* request,
                                    v1::AdminServiceGetLeadResponse* response) override;
  grpc::ServerUnaryReactor* ReassignLead(grpc::CallbackServerContext* context,
                                         const v1::ReassignLeadRequest* request,
                                         v1::ReassignLeadResponse* response) override;
  grpc::ServerWriteReactor<v1::WatchLeadsResponse>* WatchLeads(
      grpc::CallbackServerContext* context, const v1::WatchLeadsRequest* request) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::GetStatsResponse* response) override;
  grpc::ServerWriteReactor<v1::BackupDatabaseResponse>* BackupDatabase(
      grpc::CallbackServerContext* context, const v1::BackupDatabaseRequest* request) override;
  grpc::ServerUnaryReactor* RecordOptOut(grpc::CallbackServerContext* context,
                                         const v1::RecordOptOutRequest* request,
                                         v1::RecordOptOutResponse* response) override;
  grpc::ServerUnaryReactor* EraseCaller(grpc::CallbackServerContext* context,
                                        const v1::EraseCallerRequest* request,
                                        v1::EraseCallerResponse* response) override;
  grpc::ServerUnaryReactor* PurgeLeads(grpc::CallbackServerContext* context,
                                       const v1::PurgeLeadsRequest* request,
                                       v1::PurgeLeadsResponse* response) override;
  grpc::ServerUnaryReactor* ListDisclosures(grpc::CallbackServerContext* context,
                                            const v1::ListDisclosuresRequest* request,
                                            v1::ListDisclosuresResponse* response) override;
  grpc::ServerUnaryReactor* ListQuarantinedSubmissions(
      grpc::CallbackServerContext* context, const v1::ListQuarantinedSubmissionsRequest* request,
      v1::ListQuarantinedSubmissionsResponse* response) override;
  grpc::ServerUnaryReactor* ReleaseQuarantinedSubmission(
      grpc::CallbackServerContext* context, const v1::ReleaseQuarantinedSubmissionRequest* request,
      v1::ReleaseQuarantinedSubmissionResponse* response) override;

 private:
  RpcGate& gate_;
  store::Storage& store_;
  const PhoneNormalizer& phones_;
  const Clock& clock_;
  const LeadStreamContext streams_;
  ResponseFiguresCache& figures_;
  const PageTokens& page_tokens_;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_ADMIN_SERVICE_H_
