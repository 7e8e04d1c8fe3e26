// Store: the accounting of disclosures, which provider token received which lead's personal
// data, how and when first.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "SQLiteCpp/Statement.h"
#include "server/store/rows.h"
#include "server/store/store.h"

namespace intake::store {
namespace {

constexpr char kDisclosuresOfLead[] =
    "SELECT provider_id, token_id, channel, first_time_us FROM disclosures WHERE lead_id = ? "
    "ORDER BY first_time_us, provider_id, token_id";

std::vector<Disclosure> DisclosuresOf(SQLite::Statement& query, const std::string& lead_id) {
  query.reset();
  query.bind(1, lead_id);
  std::vector<Disclosure> out;
  while (query.executeStep()) {
    out.push_back(Disclosure{query.getColumn(0).getString(), query.getColumn(1).getString(),
                             static_cast<DisclosureChannel>(query.getColumn(2).getInt()),
                             rows::FromMicros(query.getColumn(3).getInt64())});
  }
  return out;
}

}  // namespace

void Store::RecordDisclosure(const std::string& lead_id, const std::string& provider_id,
                             const std::string& token_id, DisclosureChannel channel) {
  // Outside the queue's lock: a writer that has stopped calls `done` at once.
  if (disclosures_.Add({lead_id, provider_id, token_id}, channel, clock_.Now())) {
    FlushDisclosures();
  }
}

void Store::InsertDisclosures(const std::vector<DisclosureQueue::Entry>& taken) {
  for (const auto& [key, disclosure] : taken) {
    // The first record of a key is committed before any later one, so OR IGNORE keeps the
    // first. A lead purged since is not recorded: nothing could read the record.
    SQLite::Statement& insert = writer_.statements().Get(
        "INSERT OR IGNORE INTO disclosures (lead_id, provider_id, token_id, channel, "
        "first_time_us) SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM leads WHERE "
        "lead_id = ?1)");
    insert.bind(1, key.lead_id);
    insert.bind(2, key.provider_id);
    insert.bind(3, key.token_id);
    insert.bind(4, static_cast<int>(disclosure.channel));
    insert.bind(5, rows::ToMicros(disclosure.time));
    insert.exec();
  }
}

void Store::FlushDisclosures() {
  // What the write took, so that a failed commit can give it back.
  auto taken = std::make_shared<std::vector<DisclosureQueue::Entry>>();
  GroupCommitWriter::Apply apply = [this, taken](SQLite::Database&) {
    *taken = disclosures_.Take();
    InsertDisclosures(*taken);
    return absl::OkStatus();
  };
  GroupCommitWriter::Done report = [this, taken](const absl::Status& s) {
    if (disclosures_.Written(s, *taken)) FlushDisclosures();
  };
  writer_.SubmitLazy(std::move(apply), std::move(report), options_.disclosure_delay);
}

void Store::WriteWaitingDisclosures() {
  while (true) {
    auto taken = disclosures_.Take();
    if (taken.empty()) return;
    const absl::Status written = writer_.Run([&](SQLite::Database&) {
      InsertDisclosures(taken);
      return absl::OkStatus();
    });
    if (!written.ok()) return;  // The writer logged why; nothing more can be done.
  }
}

absl::StatusOr<std::vector<Disclosure>> Store::ListLeadDisclosures(const std::string& lead_id) {
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<std::vector<Disclosure>> {
    SQLite::Statement query(db, kDisclosuresOfLead);
    return DisclosuresOf(query, lead_id);
  });
}

absl::StatusOr<std::vector<LeadDisclosures>> Store::ListCallerDisclosures(absl::string_view e164) {
  const std::string phone_hash = cipher_.PhoneHash(e164);
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<std::vector<LeadDisclosures>> {
    // An erased lead's phone hash is empty: it is not found, as the contract says.
    SQLite::Statement leads(db,
                            "SELECT lead_id, target, create_time_us FROM leads "
                            "WHERE phone_hash = ? ORDER BY create_time_us DESC, lead_id DESC");
    leads.bind(1, phone_hash.data(), static_cast<int>(phone_hash.size()));
    SQLite::Statement disclosures(db, kDisclosuresOfLead);
    std::vector<LeadDisclosures> out;
    while (leads.executeStep()) {
      LeadDisclosures& lead = out.emplace_back();
      lead.lead_id = leads.getColumn(0).getString();
      lead.listing_id = leads.getColumn(1).getString();
      lead.create_time = rows::FromMicros(leads.getColumn(2).getInt64());
      lead.disclosures = DisclosuresOf(disclosures, lead.lead_id);
    }
    return out;
  });
}

}  // namespace intake::store
