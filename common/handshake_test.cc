#include "common/handshake.h"

#include <gtest/gtest.h>

namespace metronome {
namespace {

class HandshakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    transcript_.service = "metronome.v1.Chain";
    transcript_.federation_id[0] = 7;
    transcript_.client_key = client_.public_key();
    transcript_.server_key = server_.public_key();
    transcript_.client_nonce = NewNonce();
    transcript_.server_nonce = NewNonce();
  }

  SigningKey client_ = SigningKey::Generate();
  SigningKey server_ = SigningKey::Generate();
  HandshakeTranscript transcript_;
};

TEST_F(HandshakeTest, EachSideVerifiesTheOthersSignature) {
  const Signature server = SignHandshake(server_, transcript_, HandshakeRole::kServer);
  const Signature client = SignHandshake(client_, transcript_, HandshakeRole::kClient);
  EXPECT_TRUE(VerifyHandshake(transcript_, HandshakeRole::kServer, server));
  EXPECT_TRUE(VerifyHandshake(transcript_, HandshakeRole::kClient, client));
}

TEST_F(HandshakeTest, SignatureIsBoundToRole) {
  const Signature server = SignHandshake(server_, transcript_, HandshakeRole::kServer);
  HandshakeTranscript swapped = transcript_;
  std::swap(swapped.client_key, swapped.server_key);
  // The server's signature cannot pass as a client's, even with the keys swapped.
  EXPECT_FALSE(VerifyHandshake(swapped, HandshakeRole::kClient, server));
}

TEST_F(HandshakeTest, SignatureIsBoundToEveryField) {
  const Signature server = SignHandshake(server_, transcript_, HandshakeRole::kServer);
  std::vector<HandshakeTranscript> changed(8, transcript_);
  changed[0].service = "metronome.v1.Federation";
  changed[1].protocol_version = 2;
  changed[2].federation_id[0] = 8;
  changed[3].client_key = SigningKey::Generate().public_key();
  changed[4].client_nonce[0] ^= 1;
  changed[5].server_nonce[31] ^= 1;
  changed[6].client_tls_hash[0] = 1;
  changed[7].server_tls_hash[0] = 1;
  for (size_t i = 0; i < changed.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_FALSE(VerifyHandshake(changed[i], HandshakeRole::kServer, server));
  }
}

TEST_F(HandshakeTest, NoncesAreFresh) { EXPECT_NE(NewNonce(), NewNonce()); }

}  // namespace
}  // namespace metronome
