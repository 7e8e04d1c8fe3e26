// AdminService: providers, listings and tokens (later issues add leads, privacy and stats).
#ifndef INTAKE_SERVER_API_ADMIN_SERVICE_H_
#define INTAKE_SERVER_API_ADMIN_SERVICE_H_

#include "intake/v1/admin_service.grpc.pb.h"
#include "server/api/rpc_gate.h"
#include "server/store/store.h"

namespace intake::api {

class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  // Neither is owned; both must outlive the service.
  AdminServiceImpl(RpcGate* gate, store::Store* store) : gate_(*gate), store_(*store) {}

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

 private:
  RpcGate& gate_;
  store::Store& store_;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_ADMIN_SERVICE_H_
