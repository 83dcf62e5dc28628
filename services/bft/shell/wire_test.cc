#include "services/bft/shell/wire.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/domain_tags.h"
#include "common/proto_bytes.h"
#include "common/test_support.h"

namespace metronome::bft {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::util::MessageDifferencer;

constexpr uint32_t kMembers = 4;

// The code part of a FromProto error ("ok" on success); every error must be
// INVALID_ARGUMENT.
std::string CodeOf(const absl::StatusOr<Message>& result) {
  if (result.ok()) return "ok";
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  const std::string text(result.status().message());
  return text.substr(0, text.find(':'));
}

std::string ErrorOf(const absl::StatusOr<Message>& result) {
  return result.ok() ? "ok" : std::string(result.status().message());
}

bool IsKnownCode(const std::string& code) {
  static const std::set<std::string> kCodes = {"empty_message",
                                               "not_core_message",
                                               "malformed_proposal",
                                               "malformed_vote",
                                               "malformed_timeout",
                                               "malformed_new_view",
                                               "malformed_quorum",
                                               "malformed_sync_status",
                                               "malformed_block_request",
                                               "malformed_block_response",
                                               "wrong_kind",
                                               "header_mismatch",
                                               "signer_out_of_range",
                                               "artefact_too_large",
                                               "too_many_hashes",
                                               "too_many_blocks",
                                               "too_many_timeouts"};
  return kCodes.count(code) == 1;
}

// Real, validly signed messages over a small chain: genesis <- parent <- block.
class WireTest : public ::testing::Test {
 protected:
  WireTest() : test_(testing::MakeTestFederation(kMembers)) {
    limits_.members = kMembers;
    parent_ = MakeBlock(HeaderHash(Header{}), 1, 1);
    block_ = MakeBlock(parent_.hash(), 2, 2);
  }

  const Federation& federation() const { return test_.federation; }

  Block MakeBlock(const Hash256& parent_hash, uint64_t height, uint64_t view) const {
    Block block;
    block.body.transactions.push_back(
        Transaction{testing::MakeTestCandidate("devchain", 100 + height)});
    block.body.transactions.push_back(
        Transaction{ProposerBlock{BytesOf(std::string_view("advocate"))}});
    block.header.parent_hash = parent_hash;
    block.header.height = height;
    block.header.view = view;
    block.header.post_state_hash.fill(static_cast<uint8_t>(height));
    block.header.content_root = ContentRoot(block.body);
    return block;
  }

  QuorumCertificate MakeQc(Phase phase, const Block& block, uint64_t justify_view) const {
    const VoteStatement statement{federation().protocol_id(), phase, block.header.view,
                                  block.hash(), justify_view};
    std::vector<std::pair<uint32_t, Signature>> votes;
    for (uint32_t member = 0; member < federation().q(); ++member) {
      votes.emplace_back(member, SignVote(test_.keys[member], federation().id(), statement));
    }
    return AssembleQuorumCertificate(federation(), statement, votes);
  }

  Signed SignAs(uint32_t signer, const char* tag, const Bytes& payload) const {
    return Signed{signer, SignTagged(test_.keys[signer], tag, federation().id(), payload)};
  }

  Proposal MakeProposal() const {
    Proposal proposal;
    proposal.statement = ProposalStatement{federation().protocol_id(), block_.header.view,
                                           block_.header, parent_.header.view};
    proposal.signed_by = SignAs(federation().LeaderOf(block_.header.view), kTagProposal,
                                EncodeProposalStatement(proposal.statement));
    proposal.body = block_.body;
    proposal.justify_qc = MakeQc(Phase::kPrepare, parent_, 0);
    return proposal;
  }

  Vote MakeVote(uint32_t signer) const {
    Vote vote;
    vote.statement = VoteStatement{federation().protocol_id(), Phase::kPreCommit,
                                   block_.header.view, block_.hash(), parent_.header.view};
    vote.signed_by = SignAs(signer, kTagVote, EncodeVoteStatement(vote.statement));
    return vote;
  }

  NewView MakeNewView(uint32_t signer) const {
    NewView new_view;
    new_view.prepare_qc = MakeQc(Phase::kPrepare, block_, parent_.header.view);
    new_view.statement = NewViewStatement{federation().protocol_id(), 3, new_view.prepare_qc.view,
                                          new_view.prepare_qc.block_hash};
    new_view.signed_by = SignAs(signer, kTagNewView, EncodeNewViewStatement(new_view.statement));
    return new_view;
  }

  Timeout MakeTimeout(uint32_t signer, uint64_t view) const {
    Timeout timeout;
    timeout.high_qc = MakeQc(Phase::kPrepare, parent_, 0);
    timeout.statement = TimeoutStatement{federation().protocol_id(), view, timeout.high_qc.view,
                                         timeout.high_qc.block_hash};
    timeout.signed_by = SignAs(signer, kTagTimeout, EncodeTimeoutStatement(timeout.statement));
    return timeout;
  }

  TimeoutCertificate MakeTc(uint64_t view, uint32_t entries) const {
    TimeoutCertificate tc;
    tc.view = view;
    for (uint32_t member = 0; member < entries; ++member) {
      const Timeout timeout = MakeTimeout(member % kMembers, view);
      tc.timeouts.emplace_back(timeout.statement, timeout.signed_by);
    }
    return tc;
  }

  SyncStatus MakeStatus(bool with_tc) const {
    SyncStatus status;
    status.view = 5;
    status.high_qc = MakeQc(Phase::kPrepare, block_, parent_.header.view);
    status.commit_qc = MakeQc(Phase::kCommit, parent_, 0);
    if (with_tc) status.timeout_certificate = MakeTc(4, federation().q());
    status.committed_height = parent_.header.height;
    return status;
  }

  BlockRequest MakeBlockRequest() const {
    BlockRequest request;
    request.hashes = {block_.hash(), parent_.hash()};
    request.include_ancestors = true;
    request.stop_height = 1;
    request.blocks_max = 16;
    return request;
  }

  BlockResponse MakeBlockResponse(bool with_commit_block) const {
    BlockResponse response;
    response.blocks = {block_, parent_};
    Hash256 unknown{};
    unknown.fill(0xee);
    response.missing = {unknown};
    response.retained_from_height = 1;
    response.commit_qc = MakeQc(Phase::kCommit, parent_, 0);
    if (with_commit_block) {
      response.commit_block = parent_;
      response.commit_state = Bytes{1, 2, 3};
      response.block_commit_qcs = {MakeQc(Phase::kCommit, parent_, 0)};
    }
    return response;
  }

  std::vector<Message> EveryMessageKind() const {
    return {MakeProposal(),
            MakeVote(2),
            QuorumMessage{MakeQc(Phase::kCommit, block_, parent_.header.view)},
            MakeNewView(1),
            MakeTimeout(3, 3),
            StatusRequest{},
            MakeStatus(/*with_tc=*/false),
            MakeStatus(/*with_tc=*/true),
            MakeBlockRequest(),
            MakeBlockResponse(/*with_commit_block=*/false),
            MakeBlockResponse(/*with_commit_block=*/true)};
  }

  absl::StatusOr<Message> Decode(const v1::ConsensusMessage& wire) const {
    return FromProto(wire, limits_);
  }

  testing::TestFederation test_;
  WireLimits limits_;
  Block parent_;
  Block block_;
};

// ---- Field-by-field comparison of core messages (they have no operator==). ----

void ExpectSame(const Signed& expected, const Signed& actual) {
  EXPECT_EQ(expected.signer, actual.signer);
  EXPECT_EQ(expected.signature, actual.signature);
}

void ExpectSame(const Block& expected, const Block& actual) {
  EXPECT_EQ(expected.header, actual.header);
  EXPECT_EQ(expected.body, actual.body);
}

void ExpectSame(const Proposal& expected, const Proposal& actual) {
  EXPECT_EQ(expected.statement, actual.statement);
  ExpectSame(expected.signed_by, actual.signed_by);
  EXPECT_EQ(expected.body, actual.body);
  EXPECT_EQ(expected.justify_qc, actual.justify_qc);
}

void ExpectSame(const Vote& expected, const Vote& actual) {
  EXPECT_EQ(EncodeVoteStatement(expected.statement), EncodeVoteStatement(actual.statement));
  ExpectSame(expected.signed_by, actual.signed_by);
}

void ExpectSame(const QuorumMessage& expected, const QuorumMessage& actual) {
  EXPECT_EQ(expected.qc, actual.qc);
}

void ExpectSame(const NewView& expected, const NewView& actual) {
  EXPECT_EQ(expected.statement, actual.statement);
  ExpectSame(expected.signed_by, actual.signed_by);
  EXPECT_EQ(expected.prepare_qc, actual.prepare_qc);
}

void ExpectSame(const Timeout& expected, const Timeout& actual) {
  EXPECT_EQ(expected.statement, actual.statement);
  ExpectSame(expected.signed_by, actual.signed_by);
  EXPECT_EQ(expected.high_qc, actual.high_qc);
}

void ExpectSame(const StatusRequest&, const StatusRequest&) {}

void ExpectSame(const SyncStatus& expected, const SyncStatus& actual) {
  EXPECT_EQ(expected.view, actual.view);
  EXPECT_EQ(expected.high_qc, actual.high_qc);
  EXPECT_EQ(expected.commit_qc, actual.commit_qc);
  EXPECT_EQ(expected.committed_height, actual.committed_height);
  ASSERT_EQ(expected.timeout_certificate.has_value(), actual.timeout_certificate.has_value());
  if (!expected.timeout_certificate) return;
  EXPECT_EQ(expected.timeout_certificate->view, actual.timeout_certificate->view);
  ASSERT_EQ(expected.timeout_certificate->timeouts.size(),
            actual.timeout_certificate->timeouts.size());
  for (size_t i = 0; i < expected.timeout_certificate->timeouts.size(); ++i) {
    EXPECT_EQ(expected.timeout_certificate->timeouts[i].first,
              actual.timeout_certificate->timeouts[i].first);
    ExpectSame(expected.timeout_certificate->timeouts[i].second,
               actual.timeout_certificate->timeouts[i].second);
  }
}

void ExpectSame(const BlockRequest& expected, const BlockRequest& actual) {
  EXPECT_EQ(expected.hashes, actual.hashes);
  EXPECT_EQ(expected.include_ancestors, actual.include_ancestors);
  EXPECT_EQ(expected.stop_height, actual.stop_height);
  EXPECT_EQ(expected.blocks_max, actual.blocks_max);
}

void ExpectSame(const BlockResponse& expected, const BlockResponse& actual) {
  ASSERT_EQ(expected.blocks.size(), actual.blocks.size());
  for (size_t i = 0; i < expected.blocks.size(); ++i) {
    ExpectSame(expected.blocks[i], actual.blocks[i]);
  }
  EXPECT_EQ(expected.missing, actual.missing);
  EXPECT_EQ(expected.retained_from_height, actual.retained_from_height);
  EXPECT_EQ(expected.commit_qc, actual.commit_qc);
  ASSERT_EQ(expected.commit_block.has_value(), actual.commit_block.has_value());
  if (expected.commit_block) ExpectSame(*expected.commit_block, *actual.commit_block);
  EXPECT_EQ(expected.commit_state, actual.commit_state);
  EXPECT_EQ(expected.block_commit_qcs, actual.block_commit_qcs);
}

// Calls `visit(path, value, set)` for every set bytes field of `message`, nested ones
// included; `set` overwrites that field in place.
using BytesFieldVisitor = std::function<void(const std::string& path, const std::string& value,
                                             const std::function<void(const std::string&)>& set)>;

void ForEachBytesField(google::protobuf::Message* message, const std::string& path,
                       const BytesFieldVisitor& visit) {
  const google::protobuf::Reflection* reflection = message->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(*message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string name = path + "." + field->name();
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
        const std::string element = name + "[" + std::to_string(i) + "]";
        if (field->type() == FieldDescriptor::TYPE_BYTES) {
          visit(element, reflection->GetRepeatedString(*message, field, i),
                [=](const std::string& value) {
                  reflection->SetRepeatedString(message, field, i, value);
                });
        } else if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
          ForEachBytesField(reflection->MutableRepeatedMessage(message, field, i), element, visit);
        }
      }
    } else if (field->type() == FieldDescriptor::TYPE_BYTES) {
      visit(name, reflection->GetString(*message, field),
            [=](const std::string& value) { reflection->SetString(message, field, value); });
    } else if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      ForEachBytesField(reflection->MutableMessage(message, field), name, visit);
    }
  }
}

// ---- Round trips. ----

TEST_F(WireTest, EveryMessageKindSurvivesTheRoundTripFieldByField) {
  for (const Message& original : EveryMessageKind()) {
    SCOPED_TRACE(MessageName(original));
    const v1::ConsensusMessage wire = ToProto(original);
    const absl::StatusOr<Message> decoded = Decode(wire);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    ASSERT_EQ(decoded->index(), original.index());
    std::visit(
        [&](const auto& expected) {
          using T = std::decay_t<decltype(expected)>;
          ExpectSame(expected, std::get<T>(*decoded));
        },
        original);
    EXPECT_TRUE(MessageDifferencer::Equals(ToProto(*decoded), wire));
  }
}

TEST_F(WireTest, ProposalCarriesSignedStatementBlockAndJustifyQcAsCanonicalBytes) {
  const Proposal proposal = MakeProposal();
  const v1::ConsensusMessage wire = ToProto(proposal);
  ASSERT_EQ(wire.kind_case(), v1::ConsensusMessage::kProposal);
  const v1::Proposal& sent = wire.proposal();
  EXPECT_EQ(sent.artefact().payload(), StringOf(EncodeProposalStatement(proposal.statement)));
  EXPECT_EQ(sent.artefact().signature(), StringOf(proposal.signed_by.signature));
  EXPECT_EQ(sent.artefact().signer_index(), proposal.signed_by.signer);
  EXPECT_EQ(sent.block().header(), StringOf(EncodeHeader(block_.header)));
  EXPECT_EQ(sent.block().body(), StringOf(EncodeBody(block_.body)));
  EXPECT_EQ(sent.justify_qc(), StringOf(EncodeQuorumCertificate(proposal.justify_qc)));
}

TEST_F(WireTest, DecodedSignaturesStillVerifyOnTheReceivedPayload) {
  const absl::StatusOr<Message> decoded = Decode(ToProto(MakeVote(2)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const Vote& vote = std::get<Vote>(*decoded);
  EXPECT_TRUE(VerifyTagged(federation().members()[2], kTagVote, federation().id(),
                           EncodeVoteStatement(vote.statement), vote.signed_by.signature));
}

TEST_F(WireTest, TimeoutCertificateEntriesTravelWithoutHighQc) {
  const v1::ConsensusMessage wire = ToProto(MakeStatus(/*with_tc=*/true));
  const v1::TimeoutCertificate& tc = wire.sync_status().timeout_certificate();
  EXPECT_EQ(tc.view(), 4u);
  ASSERT_EQ(static_cast<uint32_t>(tc.timeouts_size()), federation().q());
  for (const v1::Timeout& entry : tc.timeouts()) {
    EXPECT_TRUE(entry.high_qc().empty());
    EXPECT_EQ(static_cast<uint8_t>(entry.artefact().payload()[0]),
              static_cast<uint8_t>(ArtefactKind::kTimeout));
  }
  EXPECT_FALSE(ToProto(MakeStatus(/*with_tc=*/false)).sync_status().has_timeout_certificate());
}

TEST_F(WireTest, StatusRequestTravelsWithRequestIdZeroAndAnyIdIsAccepted) {
  EXPECT_EQ(ToProto(StatusRequest{}).status_request().request_id(), 0u);
  v1::ConsensusMessage wire;
  wire.mutable_status_request()->set_request_id(77);
  const absl::StatusOr<Message> decoded = Decode(wire);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(std::holds_alternative<StatusRequest>(*decoded));
}

TEST_F(WireTest, BlockRequestMaxBlocksIsClampedToTheLimit) {
  BlockRequest request = MakeBlockRequest();
  request.blocks_max = limits_.blocks_max + 100;
  const absl::StatusOr<Message> decoded = Decode(ToProto(request));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(std::get<BlockRequest>(*decoded).blocks_max, limits_.blocks_max);
}

// ---- Rejections. ----

TEST_F(WireTest, MessageWithNoKindIsEmptyMessage) {
  EXPECT_EQ(CodeOf(Decode(v1::ConsensusMessage{})), "empty_message");
}

TEST_F(WireTest, LedgerMessagesAreNotCoreMessages) {
  v1::ConsensusMessage request;
  request.mutable_ledger_request()->set_request_id(1);
  EXPECT_EQ(CodeOf(Decode(request)), "not_core_message");
  v1::ConsensusMessage response;
  response.mutable_ledger_response()->set_found(false);
  EXPECT_EQ(CodeOf(Decode(response)), "not_core_message");
}

TEST_F(WireTest, VotePayloadInsideProposalIsWrongKind) {
  v1::ConsensusMessage wire = ToProto(MakeProposal());
  *wire.mutable_proposal()->mutable_artefact() = ToProto(MakeVote(1)).vote().artefact();
  const absl::StatusOr<Message> decoded = Decode(wire);
  EXPECT_EQ(CodeOf(decoded), "wrong_kind");
  EXPECT_NE(ErrorOf(decoded).find("proposal.artefact.payload"), std::string::npos)
      << ErrorOf(decoded);
}

TEST_F(WireTest, HeaderInPlaceOfQcIsWrongKind) {
  v1::ConsensusMessage wire = ToProto(MakeTimeout(1, 3));
  wire.mutable_timeout()->set_high_qc(StringOf(EncodeHeader(block_.header)));
  EXPECT_EQ(CodeOf(Decode(wire)), "wrong_kind");
}

TEST_F(WireTest, ProposalWhoseBlockHeaderIsNotTheSignedHeaderIsHeaderMismatch) {
  v1::ConsensusMessage wire = ToProto(MakeProposal());
  Header other = block_.header;
  other.post_state_hash.fill(0x99);
  wire.mutable_proposal()->mutable_block()->set_header(StringOf(EncodeHeader(other)));
  EXPECT_EQ(CodeOf(Decode(wire)), "header_mismatch");
}

TEST_F(WireTest, UndecodableProposalHeaderIsMalformedProposal) {
  v1::ConsensusMessage wire = ToProto(MakeProposal());
  std::string header = wire.proposal().block().header();
  header.pop_back();
  wire.mutable_proposal()->mutable_block()->set_header(header);
  const absl::StatusOr<Message> decoded = Decode(wire);
  EXPECT_EQ(CodeOf(decoded), "malformed_proposal");
  EXPECT_EQ(ErrorOf(decoded).rfind("malformed_proposal: proposal.block.header: ", 0), 0u)
      << ErrorOf(decoded);
}

TEST_F(WireTest, ProposalBodyOfWrongKindOrUndecodableIsRefused) {
  v1::ConsensusMessage wire = ToProto(MakeProposal());
  wire.mutable_proposal()->mutable_block()->set_body(StringOf(EncodeHeader(block_.header)));
  EXPECT_EQ(CodeOf(Decode(wire)), "wrong_kind");
  std::string body = StringOf(EncodeBody(block_.body));
  body[5] = static_cast<char>(body[5] + 1);  // One more transaction than present.
  wire.mutable_proposal()->mutable_block()->set_body(body);
  EXPECT_EQ(CodeOf(Decode(wire)), "malformed_proposal");
}

TEST_F(WireTest, PayloadWithTrailingBytesIsMalformed) {
  v1::ConsensusMessage wire = ToProto(MakeVote(1));
  wire.mutable_vote()->mutable_artefact()->mutable_payload()->push_back('\0');
  const absl::StatusOr<Message> decoded = Decode(wire);
  EXPECT_EQ(CodeOf(decoded), "malformed_vote");
  EXPECT_NE(ErrorOf(decoded).find("trailing"), std::string::npos) << ErrorOf(decoded);
}

TEST_F(WireTest, SignatureOfWrongLengthIsMalformed) {
  v1::ConsensusMessage wire = ToProto(MakeVote(1));
  wire.mutable_vote()->mutable_artefact()->mutable_signature()->pop_back();
  const absl::StatusOr<Message> decoded = Decode(wire);
  EXPECT_EQ(CodeOf(decoded), "malformed_vote");
  EXPECT_NE(ErrorOf(decoded).find("vote.artefact.signature"), std::string::npos)
      << ErrorOf(decoded);
}

TEST_F(WireTest, SignerIndexAtMembersIsOutOfRangeAndTheLastMemberIsNot) {
  v1::ConsensusMessage wire = ToProto(MakeVote(1));
  wire.mutable_vote()->mutable_artefact()->set_signer_index(kMembers - 1);
  EXPECT_EQ(CodeOf(Decode(wire)), "ok");
  wire.mutable_vote()->mutable_artefact()->set_signer_index(kMembers);
  EXPECT_EQ(CodeOf(Decode(wire)), "signer_out_of_range");
}

TEST_F(WireTest, TimeoutCertificateSignerOutOfRangeIsRejected) {
  v1::ConsensusMessage wire = ToProto(MakeStatus(/*with_tc=*/true));
  wire.mutable_sync_status()
      ->mutable_timeout_certificate()
      ->mutable_timeouts(1)
      ->mutable_artefact()
      ->set_signer_index(kMembers + 5);
  EXPECT_EQ(CodeOf(Decode(wire)), "signer_out_of_range");
}

TEST_F(WireTest, UndecodableTimeoutAndNewViewQcsAreMalformed) {
  v1::ConsensusMessage timeout = ToProto(MakeTimeout(1, 3));
  timeout.mutable_timeout()->mutable_high_qc()->resize(20);
  EXPECT_EQ(CodeOf(Decode(timeout)), "malformed_timeout");
  v1::ConsensusMessage new_view = ToProto(MakeNewView(1));
  new_view.mutable_new_view()->clear_prepare_qc();
  EXPECT_EQ(CodeOf(Decode(new_view)), "malformed_new_view");
}

TEST_F(WireTest, MoreHashesThanTheLimitAreTooManyHashes) {
  limits_.block_hashes_max = 2;
  BlockRequest request = MakeBlockRequest();
  ASSERT_EQ(request.hashes.size(), 2u);
  EXPECT_EQ(CodeOf(Decode(ToProto(request))), "ok");
  request.hashes.push_back(Hash256{});
  EXPECT_EQ(CodeOf(Decode(ToProto(request))), "too_many_hashes");

  BlockResponse response = MakeBlockResponse(/*with_commit_block=*/false);
  response.missing.assign(3, Hash256{});
  EXPECT_EQ(CodeOf(Decode(ToProto(response))), "too_many_hashes");
}

TEST_F(WireTest, HashOfWrongLengthIsMalformed) {
  v1::ConsensusMessage wire = ToProto(MakeBlockRequest());
  wire.mutable_block_request()->add_block_hashes(std::string(31, 'x'));
  EXPECT_EQ(CodeOf(Decode(wire)), "malformed_block_request");
}

TEST_F(WireTest, BlockRequestForZeroBlocksIsMalformed) {
  BlockRequest request = MakeBlockRequest();
  request.blocks_max = 0;
  EXPECT_EQ(CodeOf(Decode(ToProto(request))), "malformed_block_request");
}

TEST_F(WireTest, MoreBlocksThanTheLimitAreTooManyBlocks) {
  limits_.blocks_max = 2;
  BlockResponse response = MakeBlockResponse(/*with_commit_block=*/true);
  ASSERT_EQ(response.blocks.size(), 2u);
  EXPECT_EQ(CodeOf(Decode(ToProto(response))), "ok");
  response.blocks.push_back(parent_);
  EXPECT_EQ(CodeOf(Decode(ToProto(response))), "too_many_blocks");
}

TEST_F(WireTest, CommitStateAndBlockCommitQcsAreBounded) {
  limits_.blocks_max = 2;
  BlockResponse response = MakeBlockResponse(/*with_commit_block=*/true);
  response.block_commit_qcs.assign(3, response.commit_qc);
  EXPECT_EQ(CodeOf(Decode(ToProto(response))), "too_many_qcs");
  response = MakeBlockResponse(/*with_commit_block=*/true);
  response.commit_state = Bytes(limits_.artefact_bytes_max + 1, 0);
  EXPECT_EQ(CodeOf(Decode(ToProto(response))), "artefact_too_large");
}

// Found on main: a validly signed vote with phase 4 reached the core and aborted the
// leader. The phase byte is now range-checked where the canonical bytes are decoded.
TEST_F(WireTest, VoteOrQcWithANonVotingPhaseIsMalformed) {
  Vote vote = MakeVote(2);
  vote.statement.phase = static_cast<Phase>(4);
  EXPECT_EQ(CodeOf(Decode(ToProto(vote))), "malformed_vote");
  QuorumCertificate qc = MakeQc(Phase::kCommit, block_, parent_.header.view);
  qc.phase = static_cast<Phase>(0);
  EXPECT_EQ(CodeOf(Decode(ToProto(QuorumMessage{qc}))), "malformed_quorum");
}

TEST_F(WireTest, UndecodableCommitBlockIsMalformedBlockResponse) {
  v1::ConsensusMessage wire = ToProto(MakeBlockResponse(/*with_commit_block=*/true));
  wire.mutable_block_response()->mutable_commit_block()->clear_body();
  EXPECT_EQ(CodeOf(Decode(wire)), "malformed_block_response");
}

TEST_F(WireTest, TimeoutCertificateWithMoreEntriesThanMembersIsTooManyTimeouts) {
  SyncStatus status = MakeStatus(/*with_tc=*/false);
  status.timeout_certificate = MakeTc(4, kMembers);
  EXPECT_EQ(CodeOf(Decode(ToProto(status))), "ok");
  status.timeout_certificate = MakeTc(4, kMembers + 1);
  EXPECT_EQ(CodeOf(Decode(ToProto(status))), "too_many_timeouts");
}

TEST_F(WireTest, TimeoutCertificateEntryCarryingHighQcIsMalformed) {
  v1::ConsensusMessage wire = ToProto(MakeStatus(/*with_tc=*/true));
  wire.mutable_sync_status()->mutable_timeout_certificate()->mutable_timeouts(0)->set_high_qc(
      StringOf(EncodeQuorumCertificate(MakeQc(Phase::kPrepare, parent_, 0))));
  EXPECT_EQ(CodeOf(Decode(wire)), "malformed_sync_status");
}

TEST_F(WireTest, SyncStatusWithoutCommitQcIsMalformed) {
  v1::ConsensusMessage wire = ToProto(MakeStatus(/*with_tc=*/false));
  wire.mutable_sync_status()->clear_commit_qc();
  EXPECT_EQ(CodeOf(Decode(wire)), "malformed_sync_status");
}

TEST_F(WireTest, EncodingAboveTheSizeLimitIsArtefactTooLarge) {
  const v1::ConsensusMessage wire = ToProto(MakeProposal());
  limits_.artefact_bytes_max = wire.proposal().artefact().payload().size();
  EXPECT_EQ(CodeOf(Decode(wire)), "artefact_too_large");  // The QC is larger still.
  limits_.artefact_bytes_max = wire.proposal().artefact().payload().size() - 1;
  const absl::StatusOr<Message> decoded = Decode(wire);
  EXPECT_EQ(CodeOf(decoded), "artefact_too_large");
  EXPECT_NE(ErrorOf(decoded).find("proposal.artefact.payload"), std::string::npos)
      << ErrorOf(decoded);
}

// Every single-byte change of every bytes field either decodes to a message that
// re-encodes to exactly the bytes received (canonical) or is refused with a known code;
// every truncation and every extension by one byte is refused.
TEST_F(WireTest, CorruptedBytesFieldsAreRefusedOrDecodeCanonically) {
  size_t fields_visited = 0;
  size_t accepted = 0;
  size_t refused = 0;
  for (const Message& original : EveryMessageKind()) {
    v1::ConsensusMessage wire = ToProto(original);
    ForEachBytesField(&wire, MessageName(original),
                      [&](const std::string& path, const std::string& value,
                          const std::function<void(const std::string&)>& set) {
                        ++fields_visited;
                        const auto check = [&](const std::string& what, bool must_refuse) {
                          const absl::StatusOr<Message> decoded = Decode(wire);
                          if (decoded.ok()) {
                            ++accepted;
                            EXPECT_FALSE(must_refuse) << path << " " << what;
                            EXPECT_TRUE(MessageDifferencer::Equals(ToProto(*decoded), wire))
                                << path << " " << what;
                          } else {
                            ++refused;
                            EXPECT_TRUE(IsKnownCode(CodeOf(decoded)))
                                << path << " " << what << ": " << decoded.status();
                          }
                        };
                        for (size_t at = 0; at < value.size(); ++at) {
                          for (uint8_t mask : {0x01, 0x80, 0xff}) {
                            std::string corrupted = value;
                            corrupted[at] = static_cast<char>(corrupted[at] ^ mask);
                            set(corrupted);
                            check("xor at " + std::to_string(at), /*must_refuse=*/false);
                          }
                        }
                        // The application state is opaque here (the replica asks the
                        // application to check it against a post-state hash).
                        const bool opaque = path.find("commit_state") != std::string::npos;
                        for (size_t length = 0; length < value.size(); ++length) {
                          set(value.substr(0, length));
                          check("truncated to " + std::to_string(length), !opaque);
                        }
                        set(value + '\x00');
                        check("extended", !opaque);
                        set(value);
                      });
    // The walk restored every field.
    EXPECT_TRUE(MessageDifferencer::Equals(wire, ToProto(original))) << MessageName(original);
  }
  EXPECT_GE(fields_visited, 40u);
  EXPECT_GT(accepted, 0u);  // Flipped signature or hash bits are well-formed.
  EXPECT_GT(refused, 0u);
}

// ---- Stream records. ----

class StreamRecordTest : public WireTest {
 protected:
  PublicKey observer() const { return federation().members()[0]; }
};

TEST_F(StreamRecordTest, ArtefactRecordCarriesPayloadSignatureSignerAndRejection) {
  const Vote vote = MakeVote(2);
  StreamRecord record;
  record.view = vote.statement.view;
  record.source = StreamRecord::Source::kReceived;
  record.item = StreamRecord::Item::kArtefact;
  record.rejected = true;
  record.rejection_reason = "wrong_view: vote for view 2 in view 3";
  record.payload = EncodeVoteStatement(vote.statement);
  record.signature = vote.signed_by.signature;
  record.signer = vote.signed_by.signer;

  const v1::StreamRecord wire = StreamRecordToProto(record, 41, observer(), 1700000000123);
  EXPECT_EQ(wire.sequence(), 41u);
  EXPECT_EQ(wire.view(), vote.statement.view);
  EXPECT_EQ(wire.source(), v1::StreamRecord::SOURCE_RECEIVED);
  EXPECT_TRUE(wire.rejected_by_consensus());
  EXPECT_EQ(wire.rejection_reason(), record.rejection_reason);
  ASSERT_EQ(wire.item_case(), v1::StreamRecord::kArtefact);
  EXPECT_EQ(wire.artefact().payload(), StringOf(record.payload));
  EXPECT_EQ(wire.artefact().signature(), StringOf(vote.signed_by.signature));
  EXPECT_EQ(wire.artefact().signer_index(), 2u);
  EXPECT_EQ(wire.observer_public_key(), StringOf(observer()));
  EXPECT_EQ(wire.observed_unix_ms(), 1700000000123u);
}

TEST_F(StreamRecordTest, QcRecordCarriesTheCanonicalQcAndNoArtefact) {
  const QuorumCertificate qc = MakeQc(Phase::kCommit, block_, parent_.header.view);
  StreamRecord record;
  record.view = qc.view;
  record.source = StreamRecord::Source::kSynced;
  record.item = StreamRecord::Item::kQc;
  record.payload = EncodeQuorumCertificate(qc);

  const v1::StreamRecord wire = StreamRecordToProto(record, 1, observer(), 5);
  EXPECT_EQ(wire.source(), v1::StreamRecord::SOURCE_SYNCED);
  EXPECT_FALSE(wire.rejected_by_consensus());
  EXPECT_TRUE(wire.rejection_reason().empty());
  ASSERT_EQ(wire.item_case(), v1::StreamRecord::kQc);
  EXPECT_EQ(wire.qc(), StringOf(record.payload));
  EXPECT_FALSE(wire.has_artefact());
}

TEST_F(StreamRecordTest, HeaderRecordOfOwnBlockCarriesTheCanonicalHeader) {
  StreamRecord record;
  record.view = block_.header.view;
  record.source = StreamRecord::Source::kOwn;
  record.item = StreamRecord::Item::kHeader;
  record.payload = EncodeHeader(block_.header);

  const v1::StreamRecord wire = StreamRecordToProto(record, 2, observer(), 6);
  EXPECT_EQ(wire.view(), block_.header.view);
  EXPECT_EQ(wire.source(), v1::StreamRecord::SOURCE_OWN);
  ASSERT_EQ(wire.item_case(), v1::StreamRecord::kHeader);
  EXPECT_EQ(wire.header(), StringOf(record.payload));
}

}  // namespace
}  // namespace metronome::bft
