#include "common/handshake_frames.h"

#include <gtest/gtest.h>

#include "common/proto_bytes.h"
#include "common/test_support.h"

namespace metronome {
namespace {

constexpr char kChainServiceName[] = "metronome.v1.Chain";

class CheckChallengeTest : public ::testing::Test {
 protected:
  CheckChallengeTest()
      : client_(SigningKey::Generate()),
        server_(SigningKey::Generate()),
        federation_(metronome::testing::MakeTestFederation(4)) {
    started_.service = kChainServiceName;
    started_.federation_id = federation_.federation.id();
    started_.client_key = client_.public_key();
    started_.client_nonce = NewNonce();
  }

  // The challenge an honest server with `key` would send (signed as `role`).
  v1::HandshakeChallenge Challenge(const SigningKey& key,
                                   const std::string& service = kChainServiceName) {
    HandshakeTranscript full = started_;
    full.service = service;
    full.server_key = key.public_key();
    full.server_nonce = NewNonce();
    const Signature signature = SignHandshake(key, full, HandshakeRole::kServer);
    v1::HandshakeChallenge challenge;
    challenge.set_protocol_version(full.protocol_version);
    challenge.set_public_key(StringOf(full.server_key.data(), 32));
    challenge.set_nonce(StringOf(full.server_nonce.data(), 32));
    challenge.set_signature(StringOf(signature.data(), 64));
    return challenge;
  }

  std::string Refusal(const v1::HandshakeChallenge& challenge,
                      const std::optional<PublicKey>& expected = std::nullopt) {
    std::string reason;
    EXPECT_FALSE(CheckChallenge(started_, challenge, expected, &reason).has_value());
    return reason;
  }

  SigningKey client_;
  SigningKey server_;
  metronome::testing::TestFederation federation_;
  HandshakeTranscript started_;
};

TEST_F(CheckChallengeTest, AcceptsAGoodChallengeAndTheClientSignatureVerifies) {
  const v1::HandshakeChallenge challenge = Challenge(server_);
  std::string reason;
  std::optional<HandshakeTranscript> full =
      CheckChallenge(started_, challenge, server_.public_key(), &reason);
  ASSERT_TRUE(full.has_value()) << reason;
  EXPECT_EQ(full->server_key, server_.public_key());
  // What the server then checks.
  EXPECT_TRUE(VerifyHandshake(*full, HandshakeRole::kClient,
                              SignHandshake(client_, *full, HandshakeRole::kClient)));
  // Without an expected key any key whose signature verifies is accepted.
  EXPECT_TRUE(CheckChallenge(started_, challenge, std::nullopt, &reason).has_value());
}

TEST_F(CheckChallengeTest, RefusesABadServerSignature) {
  v1::HandshakeChallenge challenge = Challenge(server_);
  std::string signature = challenge.signature();
  signature[5] ^= 1;
  challenge.set_signature(signature);
  EXPECT_EQ(Refusal(challenge), "bad_signature");
  EXPECT_EQ(Refusal(challenge, server_.public_key()), "bad_signature");
}

TEST_F(CheckChallengeTest, RefusesASignatureByAnotherKeyOrForAnotherLinkOrNonce) {
  // Signed by someone else while naming the server's key.
  v1::HandshakeChallenge other = Challenge(SigningKey::Generate());
  other.set_public_key(StringOf(server_.public_key().data(), 32));
  EXPECT_EQ(Refusal(other), "bad_signature");
  // Signed for another link (a handshake replayed from Federation.Connect).
  EXPECT_EQ(Refusal(Challenge(server_, "metronome.v1.Federation")), "bad_signature");
  // A nonce other than the one signed.
  v1::HandshakeChallenge nonce = Challenge(server_);
  nonce.set_nonce(std::string(32, 'x'));
  EXPECT_EQ(Refusal(nonce), "bad_signature");
}

TEST_F(CheckChallengeTest, RefusesAnUnexpectedServerKey) {
  EXPECT_EQ(Refusal(Challenge(SigningKey::Generate()), server_.public_key()),
            "unexpected_server_key");
}

TEST_F(CheckChallengeTest, RefusesMalformedFramesAndOtherVersions) {
  v1::HandshakeChallenge short_key = Challenge(server_);
  short_key.set_public_key(std::string(31, 'k'));
  EXPECT_EQ(Refusal(short_key), "malformed_challenge");
  v1::HandshakeChallenge short_signature = Challenge(server_);
  short_signature.set_signature(std::string(63, 's'));
  EXPECT_EQ(Refusal(short_signature), "malformed_challenge");
  v1::HandshakeChallenge no_nonce = Challenge(server_);
  no_nonce.clear_nonce();
  EXPECT_EQ(Refusal(no_nonce), "malformed_challenge");
  v1::HandshakeChallenge version = Challenge(server_);
  version.set_protocol_version(2);
  EXPECT_EQ(Refusal(version), "protocol_version");
}

TEST(ReconnectDelayTest, GrowsExponentiallyWithJitterAndIsBounded) {
  std::mt19937_64 random(7);
  for (uint32_t failures = 0; failures < 40; ++failures) {
    const uint64_t nominal = std::min<uint64_t>(100ULL << std::min<uint32_t>(failures, 20), 5000);
    for (int i = 0; i < 50; ++i) {
      const uint64_t delay = ReconnectDelayMs(100, 5000, failures, &random);
      EXPECT_GE(delay, nominal / 2) << failures;
      EXPECT_LE(delay, nominal) << failures;
    }
  }
}

class AnswerHelloTest : public ::testing::Test {
 protected:
  AnswerHelloTest()
      : client_(SigningKey::Generate()),
        server_(SigningKey::Generate()),
        federation_(metronome::testing::MakeTestFederation(4)) {}

  grpc::Status Answer(const v1::HandshakeHello& hello, bool accept = true) {
    return AnswerHello(
        hello, kChainServiceName, federation_.federation.id(), server_,
        [accept](const PublicKey&) { return accept; }, "the adapter key", &transcript_,
        &challenge_);
  }

  SigningKey client_;
  SigningKey server_;
  metronome::testing::TestFederation federation_;
  HandshakeTranscript transcript_;
  v1::HandshakeChallenge challenge_;
};

TEST_F(AnswerHelloTest, AFullHandshakeBetweenBothSidesVerifies) {
  ClientHello hello =
      StartClientHandshake(kChainServiceName, federation_.federation.id(), client_.public_key());
  ASSERT_TRUE(Answer(hello.hello).ok());
  std::string reason;
  std::optional<HandshakeTranscript> full =
      CheckChallenge(hello.started, challenge_, server_.public_key(), &reason);
  ASSERT_TRUE(full.has_value()) << reason;
  v1::HandshakeResponse response;
  response.set_signature(StringOf(SignHandshake(client_, *full, HandshakeRole::kClient)));
  EXPECT_TRUE(CheckChallengeResponse(transcript_, response).ok());
  // A signature over another transcript (here: the server's role) or a changed one is
  // refused.
  HandshakeTranscript other = *full;
  other.client_nonce[0] ^= 1;
  response.set_signature(StringOf(SignHandshake(client_, other, HandshakeRole::kClient)));
  EXPECT_EQ(CheckChallengeResponse(transcript_, response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  response.set_signature(std::string(10, 's'));
  EXPECT_EQ(CheckChallengeResponse(transcript_, response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AnswerHelloTest, RefusesMalformedForeignUnknownAndOwnKeys) {
  ClientHello hello =
      StartClientHandshake(kChainServiceName, federation_.federation.id(), client_.public_key());
  v1::HandshakeHello bad = hello.hello;
  bad.set_nonce("short");
  EXPECT_EQ(Answer(bad).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  bad = hello.hello;
  bad.set_protocol_version(9);
  EXPECT_EQ(Answer(bad).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  bad = hello.hello;
  bad.set_federation_id(std::string(32, 'f'));
  EXPECT_EQ(Answer(bad).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Answer(hello.hello, /*accept=*/false).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The server's own key is never a peer.
  bad = hello.hello;
  bad.set_public_key(StringOf(server_.public_key()));
  EXPECT_EQ(Answer(bad).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace metronome
