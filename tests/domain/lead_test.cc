#include "server/domain/lead.h"

#include <string>

#include "gtest/gtest.h"

namespace intake {
namespace {

// The note as stored, or "refused: <description>".
std::string Normalized(std::string note) {
  const FieldViolations violations = NormalizeContactNote(note);
  if (violations.empty()) return note;
  EXPECT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field, "note");
  return "refused: " + violations[0].description;
}

TEST(ContactNoteTest, ANoteMaySpanLinesAndHoldTabs) {
  EXPECT_EQ(Normalized(""), "");
  EXPECT_EQ(Normalized("Called twice.\nLeft voicemail."), "Called twice.\nLeft voicemail.");
  EXPECT_EQ(Normalized("Called twice.\r\nLeft voicemail.\r\n"), "Called twice.\nLeft voicemail.\n")
      << "CR LF, as a browser's textarea sends it, is stored as LF";
  EXPECT_EQ(Normalized("Outcome:\treached"), "Outcome:\treached");
  EXPECT_EQ(Normalized("Rappelé à 9h — réponse"), "Rappelé à 9h — réponse");
}

TEST(ContactNoteTest, OtherControlCharactersAreRefused) {
  const std::string refused =
      "refused: must not contain control characters other than tab and line breaks";
  EXPECT_EQ(Normalized("Called.\rNo answer."), refused) << "a CR on its own";
  EXPECT_EQ(Normalized("bell\a"), refused);
  EXPECT_EQ(Normalized(std::string("nul\0byte", 8)), refused);
  EXPECT_EQ(Normalized("esc\x1b[31m"), refused);
  EXPECT_EQ(Normalized("del\x7f"), refused);
  EXPECT_EQ(Normalized("c1\xc2\x85"), refused) << "NEL";
}

TEST(ContactNoteTest, LengthIsCountedInCharactersAfterFolding) {
  EXPECT_EQ(Normalized(std::string(kMaxContactNoteChars, 'x')),
            std::string(kMaxContactNoteChars, 'x'));
  EXPECT_EQ(Normalized(std::string(kMaxContactNoteChars + 1, 'x')),
            "refused: must be at most 500 characters");
  std::string accents;
  for (size_t i = 0; i < kMaxContactNoteChars; ++i) accents += "\xc3\xa9";  // é: 2 bytes.
  EXPECT_EQ(Normalized(accents), accents);
  // 250 lines ending in CR LF: 750 characters as sent, 500 (the limit) as stored.
  std::string lines;
  for (int i = 0; i < 250; ++i) lines += "x\r\n";
  EXPECT_EQ(Normalized(lines).size(), 500u);
  EXPECT_EQ(Normalized(lines + "x"), "refused: must be at most 500 characters");
}

TEST(ContactNoteTest, InvalidUtf8IsRefusedWithoutEchoingIt) {
  EXPECT_EQ(Normalized("caf\xe9"), "refused: must be valid UTF-8");
}

TEST(CheckFeedbackAllowedTest, RefusesOnlyOptedOutAndErasedLeads) {
  Lead lead;
  for (const LeadState state :
       {LeadState::kNew, LeadState::kUnassigned, LeadState::kAcknowledged, LeadState::kContacted}) {
    lead.state = state;
    EXPECT_TRUE(CheckFeedbackAllowed(lead).ok()) << static_cast<int>(state);
  }
  for (const LeadState state : {LeadState::kOptedOut, LeadState::kErased}) {
    lead.state = state;
    EXPECT_EQ(CheckFeedbackAllowed(lead).code(), absl::StatusCode::kFailedPrecondition)
        << static_cast<int>(state);
  }
}

TEST(AcknowledgeTest, StampsOnceAndMovesOnlyANewLead) {
  Lead lead;
  lead.state = LeadState::kNew;
  EXPECT_TRUE(Acknowledge(lead, absl::FromUnixSeconds(100)));
  EXPECT_EQ(lead.state, LeadState::kAcknowledged);
  EXPECT_EQ(lead.acknowledge_time, absl::FromUnixSeconds(100));
  EXPECT_FALSE(Acknowledge(lead, absl::FromUnixSeconds(200)));
  EXPECT_EQ(lead.acknowledge_time, absl::FromUnixSeconds(100));

  Lead contacted;
  contacted.state = LeadState::kContacted;
  EXPECT_TRUE(Acknowledge(contacted, absl::FromUnixSeconds(300)));
  EXPECT_EQ(contacted.state, LeadState::kContacted);
}

TEST(RecordContactTest, KeepsTheFirstTimeAndTheLastOutcome) {
  Lead lead;
  lead.state = LeadState::kAcknowledged;
  RecordContact(lead, ContactOutcome::kNoAnswer, absl::FromUnixSeconds(100));
  RecordContact(lead, ContactOutcome::kReached, absl::FromUnixSeconds(200));
  EXPECT_EQ(lead.state, LeadState::kContacted);
  EXPECT_EQ(lead.first_contact_time, absl::FromUnixSeconds(100));
  EXPECT_EQ(lead.last_outcome, ContactOutcome::kReached);
}

TEST(ReassignToTest, MakesANewManuallyRoutedLeadOfTheProviderWithNoFeedback) {
  Lead lead;
  lead.provider_id = "acme";
  lead.state = LeadState::kContacted;
  lead.routing_reason = RoutingReason::kListingOwner;
  lead.acknowledge_time = absl::FromUnixSeconds(100);
  lead.first_contact_time = absl::FromUnixSeconds(200);
  lead.last_outcome = ContactOutcome::kReached;
  ReassignTo(lead, "beta");
  EXPECT_EQ(lead.provider_id, "beta");
  EXPECT_EQ(lead.state, LeadState::kNew);
  EXPECT_EQ(lead.routing_reason, RoutingReason::kManual);
  EXPECT_EQ(lead.routing_detail, "reassigned by ops");
  EXPECT_FALSE(lead.acknowledge_time.has_value());
  EXPECT_FALSE(lead.first_contact_time.has_value());
  EXPECT_FALSE(lead.last_outcome.has_value());
}

}  // namespace
}  // namespace intake
