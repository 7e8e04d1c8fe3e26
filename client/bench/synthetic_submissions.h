// Realistic SubmitCallback requests for load: every call from a different caller (phone
// number) with its own request_id, and every request of exactly the same serialized size, so
// the echo baseline can carry the same bytes per call.
#ifndef INTAKE_CLIENT_BENCH_SYNTHETIC_SUBMISSIONS_H_
#define INTAKE_CLIENT_BENCH_SYNTHETIC_SUBMISSIONS_H_

#include <cstdint>
#include <random>
#include <string>

#include "intake/v1/intake_service.pb.h"

namespace intake::bench {

class SyntheticSubmissions {
 public:
  // How many distinct phone numbers there are before they repeat (about 47 million).
  static uint64_t DistinctCallers();

  // `run_tag`: 16 characters of [a-z0-9], different for every run, so a rerun against the same
  // server is not answered from the request_id idempotency record. `first_caller`: where in
  // the phone number sequence call 0 starts (reduced modulo DistinctCallers()); a random one
  // keeps reruns against a long-lived server from merging into earlier runs' leads.
  // `listing_id`: sent verbatim; empty for the general helpline.
  SyntheticSubmissions(std::string run_tag, uint64_t first_caller, std::string listing_id);

  // A fresh run's generator: a random run_tag and first_caller drawn from `random`.
  static SyntheticSubmissions ForNewRun(std::mt19937_64& random, std::string listing_id);

  // Fills `request` (cleared first) as call `call_index`'s: a valid US number unique among
  // the first DistinctCallers() calls, request_id "bench-<run_tag>-<call_index>", consent
  // granted with a fixed text, and a filled-in form. Thread-safe.
  void Fill(uint64_t call_index, intake::v1::SubmitCallbackRequest* request) const;

  // Call `call_index`'s phone number in E.164 ("+1" and ten digits), the form the server
  // stores it in and streams it back in. Thread-safe.
  std::string E164Phone(uint64_t call_index) const;

 private:
  std::string run_tag_;
  uint64_t first_caller_;
  std::string listing_id_;
};

}  // namespace intake::bench

#endif  // INTAKE_CLIENT_BENCH_SYNTHETIC_SUBMISSIONS_H_
