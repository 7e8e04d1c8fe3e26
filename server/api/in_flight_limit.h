// A bound on SubmitCallback calls waiting for the database at once, so that load beyond what
// the writer commits is shed at the door instead of queueing without end in memory.
#ifndef INTAKE_SERVER_API_IN_FLIGHT_LIMIT_H_
#define INTAKE_SERVER_API_IN_FLIGHT_LIMIT_H_

#include <atomic>
#include <cstdint>
#include <optional>

namespace intake::api {

// Hands out at most `max` places at once. Each call waiting for its commit holds one (its
// request, its submission and gRPC's state of the call: memory the server keeps until the
// reply), so the bound caps that memory whatever the arrival rate. Thread-safe; never blocks.
class InFlightLimit {
 public:
  // A taken place, given back when destroyed. Move-only.
  class Place {
   public:
    Place(Place&& other) noexcept : limit_(other.limit_) { other.limit_ = nullptr; }
    Place& operator=(Place&&) = delete;
    Place(const Place&) = delete;
    Place& operator=(const Place&) = delete;
    ~Place() {
      if (limit_ != nullptr) limit_->taken_.fetch_sub(1, std::memory_order_relaxed);
    }

   private:
    friend class InFlightLimit;
    explicit Place(InFlightLimit* limit) : limit_(limit) {}
    InFlightLimit* limit_;
  };

  // `max` 0: no bound (every TryTake succeeds).
  explicit InFlightLimit(int64_t max) : max_(max) {}
  InFlightLimit(const InFlightLimit&) = delete;
  InFlightLimit& operator=(const InFlightLimit&) = delete;

  // A place, or nullopt when all `max` are taken (nothing is then held). The limit must
  // outlive the place.
  std::optional<Place> TryTake() {
    const int64_t before = taken_.fetch_add(1, std::memory_order_relaxed);
    Place place(this);
    if (max_ > 0 && before >= max_) return std::nullopt;  // ~Place gives it back.
    return place;
  }

 private:
  const int64_t max_;
  std::atomic<int64_t> taken_{0};
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_IN_FLIGHT_LIMIT_H_
