#ifndef METRONOME_COMMON_HANDSHAKE_H_
#define METRONOME_COMMON_HANDSHAKE_H_

#include <string>

#include "common/ed25519.h"

namespace metronome {

// The challenge-response handshake that opens every authenticated stream
// (Federation.Connect, Interpreter.Attach, Chain.Attach; proto/metronome/v1/types.proto).
// Both sides sign the same transcript, each with its own role, so a signature made as
// one side, for one link, one federation or one pair of nonces never verifies for
// another. Pure; thread-safe.

constexpr uint32_t kHandshakeProtocolVersion = 1;

using Nonce = std::array<uint8_t, 32>;

enum class HandshakeRole : uint8_t { kServer = 1, kClient = 2 };

// Encoding (canonical, signed under kTagHandshake and the federation id): role:u8
// service:str protocol_version:u32 federation_id[32] client_key[32] server_key[32]
// client_nonce[32] server_nonce[32] client_tls_hash[32] server_tls_hash[32].
struct HandshakeTranscript {
  std::string service;  // Full gRPC service name, e.g. "metronome.v1.Chain".
  uint32_t protocol_version = kHandshakeProtocolVersion;
  Hash256 federation_id{};
  PublicKey client_key{};
  PublicKey server_key{};
  Nonce client_nonce{};
  Nonce server_nonce{};
  // BLAKE2b-256 of each side's TLS leaf certificate (DER); zeros without TLS.
  Hash256 client_tls_hash{};
  Hash256 server_tls_hash{};
};

Bytes EncodeHandshakeTranscript(const HandshakeTranscript& transcript, HandshakeRole role);

// The signature of `role` (made with that side's key) over the transcript.
Signature SignHandshake(const SigningKey& key, const HandshakeTranscript& transcript,
                        HandshakeRole role);

// True when `signature` is `role`'s valid signature: made by the transcript's key for
// that role (server_key or client_key) over exactly this transcript.
bool VerifyHandshake(const HandshakeTranscript& transcript, HandshakeRole role,
                     const Signature& signature);

// 32 fresh random bytes from the operating system, for one stream.
Nonce NewNonce();

}  // namespace metronome

#endif  // METRONOME_COMMON_HANDSHAKE_H_
