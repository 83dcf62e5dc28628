// Known-answer tests: BLAKE2b-256 (RFC 7693 parameters) and Ed25519 (RFC 8032 §7.1).
#include <gtest/gtest.h>

#include "common/ed25519.h"
#include "common/hash.h"

namespace metronome {
namespace {

TEST(Blake2bKnownAnswerTest, EmptyInput) {
  EXPECT_EQ(ToHex(Blake2b256(Bytes{})),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

TEST(Blake2bKnownAnswerTest, Abc) {
  EXPECT_EQ(ToHex(Blake2b256(BytesOf("abc"))),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(Blake2bKnownAnswerTest, TaggedHashSeparatesDomains) {
  EXPECT_NE(TaggedHash("a", BytesOf("bc")), TaggedHash("ab", BytesOf("c")));
  EXPECT_NE(TaggedHash("a", BytesOf("x")), Blake2b256(BytesOf("x")));
}

struct Rfc8032Vector {
  const char* seed;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 §7.1, TEST 1, 2 and 3.
constexpr Rfc8032Vector kVectors[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
     "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
     "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760"
     "984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Ed25519KnownAnswerTest, Rfc8032Vectors) {
  for (const Rfc8032Vector& vector : kVectors) {
    SCOPED_TRACE(vector.public_key);
    const SigningKey key = SigningKey::FromSeed(*FixedFromHex<32>(vector.seed));
    EXPECT_EQ(ToHex(key.public_key()), vector.public_key);
    const Bytes message = *FromHex(vector.message);
    const Signature signature = key.Sign(message);
    EXPECT_EQ(ToHex(signature), vector.signature);
    EXPECT_TRUE(VerifySignature(key.public_key(), message, signature));
  }
}

TEST(Ed25519Test, VerifyRejectsOtherMessageKeyOrSignature) {
  const SigningKey key = SigningKey::Generate();
  const SigningKey other = SigningKey::Generate();
  const Bytes message = BytesOf("checkpoint");
  Signature signature = key.Sign(message);
  EXPECT_TRUE(VerifySignature(key.public_key(), message, signature));
  EXPECT_FALSE(VerifySignature(other.public_key(), message, signature));
  EXPECT_FALSE(VerifySignature(key.public_key(), BytesOf("checkpoinT"), signature));
  signature[10] ^= 1;
  EXPECT_FALSE(VerifySignature(key.public_key(), message, signature));
}

TEST(Ed25519Test, TaggedSignatureIsBoundToTagAndFederation) {
  const SigningKey key = SigningKey::Generate();
  Hash256 federation_a{};
  Hash256 federation_b{};
  federation_b[0] = 1;
  const Bytes payload = BytesOf("vote");
  const Signature signature = SignTagged(key, "tag/a", federation_a, payload);
  EXPECT_TRUE(VerifyTagged(key.public_key(), "tag/a", federation_a, payload, signature));
  EXPECT_FALSE(VerifyTagged(key.public_key(), "tag/b", federation_a, payload, signature));
  EXPECT_FALSE(VerifyTagged(key.public_key(), "tag/a", federation_b, payload, signature));
}

}  // namespace
}  // namespace metronome
