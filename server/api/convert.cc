#include "server/api/convert.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace intake::api {

void ToProto(absl::Time time, google::protobuf::Timestamp* out) {
  if (time == absl::InfinitePast()) return;
  const int64_t micros = absl::ToUnixMicros(time);
  out->set_seconds(micros / 1'000'000);
  out->set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
  if (out->nanos() < 0) {
    out->set_seconds(out->seconds() - 1);
    out->set_nanos(out->nanos() + 1'000'000'000);
  }
}

std::optional<absl::Time> FromProto(const google::protobuf::Timestamp& timestamp) {
  // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, as google/protobuf/timestamp.proto says.
  constexpr int64_t kMinSeconds = -62'135'596'800;
  constexpr int64_t kMaxSeconds = 253'402'300'799;
  if (timestamp.seconds() < kMinSeconds || timestamp.seconds() > kMaxSeconds ||
      timestamp.nanos() < 0 || timestamp.nanos() > 999'999'999) {
    return std::nullopt;
  }
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

void ToProto(const Provider& provider, v1::Provider* out) {
  out->set_provider_id(provider.provider_id);
  out->set_display_name(provider.display_name);
  out->set_state(provider.state == ProviderState::kPaused ? v1::PROVIDER_STATE_PAUSED
                                                          : v1::PROVIDER_STATE_ACTIVE);
  for (const std::string& region : provider.regions) out->add_regions(region);
  out->set_daily_cap(provider.daily_cap);
  out->set_time_zone(provider.time_zone);
  for (const OpeningPeriod& p : provider.hours) {
    v1::OpeningPeriod* period = out->add_hours();
    period->set_day_of_week(static_cast<v1::Weekday>(p.day));
    period->set_open_minute(p.open_minute);
    period->set_close_minute(p.close_minute);
  }
  ToProto(provider.create_time, out->mutable_create_time());
  ToProto(provider.update_time, out->mutable_update_time());
}

void ToProto(const Listing& listing, v1::Listing* out) {
  out->set_listing_id(listing.listing_id);
  out->set_provider_id(listing.provider_id);
  out->set_display_name(listing.display_name);
  out->set_region(listing.region);
  ToProto(listing.create_time, out->mutable_create_time());
}

ProviderState FromProto(v1::ProviderState state, ProviderState if_unspecified,
                        absl::string_view field, FieldViolations* violations) {
  switch (state) {
    case v1::PROVIDER_STATE_ACTIVE:
      return ProviderState::kActive;
    case v1::PROVIDER_STATE_PAUSED:
      return ProviderState::kPaused;
    case v1::PROVIDER_STATE_UNSPECIFIED:
      return if_unspecified;
    default:
      violations->push_back({std::string(field), "is not a known ProviderState"});
      return if_unspecified;
  }
}

std::vector<OpeningPeriod> FromProto(
    const google::protobuf::RepeatedPtrField<v1::OpeningPeriod>& hours) {
  std::vector<OpeningPeriod> out;
  out.reserve(hours.size());
  for (int i = 0; i < hours.size(); ++i) {
    const v1::OpeningPeriod& p = hours[i];
    // Minutes beyond int range cannot be valid; clamp so validation reports them as such.
    const auto minute = [](uint32_t m) { return static_cast<int>(std::min<uint32_t>(m, 100000)); };
    out.push_back(OpeningPeriod{static_cast<Weekday>(p.day_of_week()), minute(p.open_minute()),
                                minute(p.close_minute())});
  }
  return out;
}

Provider FromProto(const v1::CreateProviderRequest& request, FieldViolations* violations) {
  Provider p;
  p.provider_id = request.provider_id();
  p.display_name = request.display_name();
  p.state = FromProto(request.state(), ProviderState::kActive, "state", violations);
  p.regions.assign(request.regions().begin(), request.regions().end());
  p.daily_cap = request.daily_cap();
  p.time_zone = request.time_zone().empty() ? std::string(kDefaultTimeZone) : request.time_zone();
  p.hours = FromProto(request.hours());
  return p;
}

Listing FromProto(const v1::CreateListingRequest& request) {
  return Listing{request.listing_id(), request.provider_id(), request.display_name(),
                 request.region(), absl::InfinitePast()};
}

}  // namespace intake::api

namespace intake::api {

Submission FromProto(const v1::SubmitCallbackRequest& request) {
  Submission s;
  s.request_id = request.request_id();
  s.listing_id = request.listing_id();
  s.caller_name = request.caller().name();
  s.phone = request.caller().phone();
  s.postal_code = request.caller().postal_code();
  s.region = request.caller().region();
  s.consent_granted = request.consent().granted();
  s.consent_text = request.consent().text();
  s.advertisers.assign(request.consent().advertisers().begin(),
                       request.consent().advertisers().end());
  s.honeypot = request.honeypot();
  const v1::FormContext& form = request.form();
  s.form = FormContext{form.form_id(),   form.page_url(),   form.referrer(),   form.user_agent(),
                       form.client_ip(), form.utm_source(), form.utm_medium(), form.utm_campaign()};
  s.message = request.message();
  return s;
}

}  // namespace intake::api

namespace intake::api {
void ToProto(const FormContext& form, v1::FormContext* out) {
  out->set_form_id(form.form_id);
  out->set_page_url(form.page_url);
  out->set_referrer(form.referrer);
  out->set_user_agent(form.user_agent);
  out->set_client_ip(form.client_ip);
  out->set_utm_source(form.utm_source);
  out->set_utm_medium(form.utm_medium);
  out->set_utm_campaign(form.utm_campaign);
}

void ToProto(const Submission& submission, v1::QuarantinedSubmission* out) {
  out->set_listing_id(submission.listing_id);
  v1::Caller* caller = out->mutable_caller();
  caller->set_name(submission.caller_name);
  caller->set_phone(submission.phone);
  caller->set_postal_code(submission.postal_code);
  caller->set_region(submission.region);
  v1::Consent* consent = out->mutable_consent();
  consent->set_granted(submission.consent_granted);
  consent->set_text(submission.consent_text);
  for (const std::string& advertiser : submission.advertisers) consent->add_advertisers(advertiser);
  out->set_honeypot(submission.honeypot);
  ToProto(submission.form, out->mutable_form());
  out->set_message(submission.message);
}

void ToProto(const Lead& lead, v1::Lead* out) {
  out->set_lead_id(lead.lead_id);
  // A lead that is no longer the reader's is passed with its id alone (and no create time).
  if (lead.create_time == absl::Time()) return;
  out->set_state(static_cast<v1::LeadState>(lead.state));
  v1::Caller* caller = out->mutable_caller();
  caller->set_name(lead.caller_name);
  caller->set_phone(lead.phone);
  caller->set_postal_code(lead.postal_code);
  caller->set_region(lead.region);
  out->set_listing_id(lead.listing_id);
  out->set_provider_id(lead.provider_id);
  out->mutable_routing()->set_reason(
      static_cast<v1::RoutingReason>(static_cast<int>(lead.routing_reason) + 1));
  out->mutable_routing()->set_detail(lead.routing_detail);
  out->set_message(lead.message);
  ToProto(lead.form, out->mutable_form());
  ToProto(lead.create_time, out->mutable_create_time());
  if (lead.acknowledge_time) ToProto(*lead.acknowledge_time, out->mutable_acknowledge_time());
  if (lead.first_contact_time) {
    ToProto(*lead.first_contact_time, out->mutable_first_contact_time());
  }
  if (lead.last_outcome) out->set_last_outcome(static_cast<v1::ContactOutcome>(*lead.last_outcome));
  out->set_submission_count(lead.submission_count);
  ToProto(lead.last_submit_time, out->mutable_last_submit_time());
}

void ToProviderProto(const Lead& lead, v1::Lead* out) {
  ToProto(lead, out);
  if (out->has_routing()) out->mutable_routing()->clear_detail();
}

v1::LeadEventType ToProto(LeadEventType type) { return static_cast<v1::LeadEventType>(type); }

static_assert(static_cast<int>(DisclosureChannel::kStream) == v1::DISCLOSURE_CHANNEL_STREAM &&
                  static_cast<int>(DisclosureChannel::kListLeads) ==
                      v1::DISCLOSURE_CHANNEL_LIST_LEADS &&
                  static_cast<int>(DisclosureChannel::kRecordContactAttempt) ==
                      v1::DISCLOSURE_CHANNEL_RECORD_CONTACT_ATTEMPT,
              "DisclosureChannel's numbers are the API's");

void ToProto(const Disclosure& disclosure, v1::Disclosure* out) {
  out->set_provider_id(disclosure.provider_id);
  out->set_token_id(disclosure.token_id);
  out->set_channel(static_cast<v1::DisclosureChannel>(disclosure.channel));
  ToProto(disclosure.first_time, out->mutable_first_time());
}

void ToProto(const LeadDisclosures& lead, v1::LeadDisclosures* out) {
  out->set_lead_id(lead.lead_id);
  out->set_listing_id(lead.listing_id);
  ToProto(lead.create_time, out->mutable_create_time());
  for (const Disclosure& d : lead.disclosures) ToProto(d, out->add_disclosures());
}

bool CarriesPersonalData(const v1::Lead& lead) {
  return lead.caller().ByteSizeLong() > 0 || !lead.message().empty() ||
         !lead.form().client_ip().empty() || !lead.form().user_agent().empty() ||
         !lead.form().referrer().empty();
}

void ToProto(const LeadEvent& event, v1::LeadEvent* out) {
  out->set_sequence(event.sequence);
  out->set_type(ToProto(event.type));
  out->set_provider_id(event.provider_id);
  ToProto(event.event_time, out->mutable_event_time());
}

void ToProto(const ResponseFigures& figures, v1::ResponseStats* out) {
  out->set_median_response_seconds(absl::ToDoubleSeconds(figures.median_response));
  out->set_response_rate(figures.response_rate);
  out->set_sample_size(figures.sample_size);
  out->set_window_days(figures.window_days);
}

std::optional<LeadState> FromProto(v1::LeadState state, absl::string_view field,
                                   FieldViolations* violations) {
  if (state == v1::LEAD_STATE_UNSPECIFIED) return std::nullopt;
  if (!v1::LeadState_IsValid(state)) {
    violations->push_back({std::string(field), "is not a known LeadState"});
    return std::nullopt;
  }
  return static_cast<LeadState>(state);
}

ContactOutcome FromProto(v1::ContactOutcome outcome, absl::string_view field,
                         FieldViolations* violations) {
  if (outcome == v1::CONTACT_OUTCOME_UNSPECIFIED || !v1::ContactOutcome_IsValid(outcome)) {
    violations->push_back({std::string(field), "must be one of the ContactOutcome values"});
    return ContactOutcome::kReached;
  }
  return static_cast<ContactOutcome>(outcome);
}

}  // namespace intake::api
