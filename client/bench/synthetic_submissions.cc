#include "client/bench/synthetic_submissions.h"

#include <array>
#include <utility>

#include "absl/strings/str_format.h"

namespace intake::bench {
namespace {

// Real geographic area codes, each with its state and a ZIP code there, so leads route the
// way a region-restricted provider would see them.
struct Area {
  int area_code;
  const char* region;
  const char* postal_code;
};
constexpr std::array<Area, 6> kAreas = {{{212, "NY", "10001"},
                                         {305, "FL", "33130"},
                                         {312, "IL", "60601"},
                                         {415, "CA", "94103"},
                                         {617, "MA", "02108"},
                                         {713, "TX", "77002"}}};

// Exchanges 200-999 are dialable; the N11 service codes and 555 (whose 01XX lines are
// fictional, and the rest mostly directory services) are skipped. Line numbers are 0000-9999.
constexpr int kFirstExchange = 200;
constexpr int kExchangeCount = 800 - 8 - 1;
constexpr uint64_t kLines = 10000;

constexpr std::array<int, kExchangeCount> MakeExchanges() {
  std::array<int, kExchangeCount> exchanges{};
  int n = 0;
  for (int e = kFirstExchange; e <= 999; ++e) {
    if (e % 100 == 11 || e == 555) continue;
    exchanges[n++] = e;
  }
  return exchanges;
}
constexpr std::array<int, kExchangeCount> kExchanges = MakeExchanges();

// All the same length, like every other varying field, so every request has the same size.
constexpr std::array<const char*, 6> kNames = {"Maria Lopez", "James Smith", "Tanya Brown",
                                               "Devon Clark", "Aisha Patel", "Lucas Green"};

constexpr char kConsentText[] =
    "By checking this box, I agree to be contacted by a treatment provider or one of the "
    "advertisers listed below about substance use treatment options, by phone call or text "
    "message, at the number I entered, including by automated means. Consent is not a "
    "condition of receiving treatment. Message and data rates may apply. I can revoke this "
    "consent at any time by replying STOP or calling the helpline.";
constexpr char kMessage[] =
    "Looking for outpatient options for my brother, ideally covered by insurance. Evenings "
    "after 6pm are best; please leave a voicemail if I miss the call.";
constexpr char kUserAgent[] =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

// One caller's number, taken apart.
struct PhoneNumber {
  const Area* area;
  int exchange;
  uint64_t line;
};

// Caller `caller` (0 <= caller < DistinctCallers()): lines vary fastest, then exchanges.
PhoneNumber NumberOf(uint64_t caller) {
  const uint64_t line = caller % kLines;
  caller /= kLines;
  return {&kAreas[caller / kExchangeCount], kExchanges[caller % kExchangeCount], line};
}

}  // namespace

uint64_t SyntheticSubmissions::DistinctCallers() { return kAreas.size() * kExchangeCount * kLines; }

SyntheticSubmissions::SyntheticSubmissions(std::string run_tag, uint64_t first_caller,
                                           std::string listing_id)
    : run_tag_(std::move(run_tag)),
      first_caller_(first_caller % DistinctCallers()),
      listing_id_(std::move(listing_id)) {}

SyntheticSubmissions SyntheticSubmissions::ForNewRun(std::mt19937_64& random,
                                                     std::string listing_id) {
  constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string tag;
  for (int i = 0; i < 16; ++i) tag.push_back(kAlphabet[pick(random)]);
  const uint64_t first_caller = random();
  return SyntheticSubmissions(std::move(tag), first_caller, std::move(listing_id));
}

void SyntheticSubmissions::Fill(uint64_t call_index,
                                intake::v1::SubmitCallbackRequest* request) const {
  request->Clear();
  const PhoneNumber number = NumberOf((first_caller_ + call_index) % DistinctCallers());
  const Area& area = *number.area;

  request->set_request_id(absl::StrFormat("bench-%s-%012d", run_tag_, call_index));
  request->set_listing_id(listing_id_);
  intake::v1::Caller* who = request->mutable_caller();
  who->set_name(kNames[call_index % kNames.size()]);
  who->set_phone(absl::StrFormat("(%03d) %03d-%04d", area.area_code, number.exchange, number.line));
  who->set_postal_code(area.postal_code);
  who->set_region(area.region);
  intake::v1::Consent* consent = request->mutable_consent();
  consent->set_granted(true);
  consent->set_text(kConsentText);
  consent->add_advertisers("Harbor Recovery Network");
  consent->add_advertisers("Blue Ridge Behavioral Health");
  request->set_message(kMessage);
  intake::v1::FormContext* form = request->mutable_form();
  form->set_form_id("helpline-callback-v3");
  form->set_page_url("https://www.example-treatment-finder.org/helpline/callback");
  form->set_referrer("https://www.google.com/");
  form->set_user_agent(kUserAgent);
  form->set_client_ip(absl::StrFormat("203.0.113.%d", 100 + call_index % 155));
  form->set_utm_source("google");
  form->set_utm_medium("cpc");
  form->set_utm_campaign(absl::StrFormat("helpline-%s", area.region));
}

std::string SyntheticSubmissions::E164Phone(uint64_t call_index) const {
  const PhoneNumber number = NumberOf((first_caller_ + call_index) % DistinctCallers());
  return absl::StrFormat("+1%03d%03d%04d", number.area->area_code, number.exchange, number.line);
}

}  // namespace intake::bench
