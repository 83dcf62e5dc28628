#include "common/handshake.h"

#include <sodium.h>

#include "common/assert.h"
#include "common/canonical.h"
#include "common/domain_tags.h"

namespace metronome {

Bytes EncodeHandshakeTranscript(const HandshakeTranscript& transcript, HandshakeRole role) {
  METRONOME_ASSERT(!transcript.service.empty());
  Writer writer;
  writer.U8(static_cast<uint8_t>(role));
  writer.String(transcript.service);
  writer.U32(transcript.protocol_version);
  writer.Fixed(transcript.federation_id);
  writer.Fixed(transcript.client_key);
  writer.Fixed(transcript.server_key);
  writer.Fixed(transcript.client_nonce);
  writer.Fixed(transcript.server_nonce);
  writer.Fixed(transcript.client_tls_hash);
  writer.Fixed(transcript.server_tls_hash);
  return writer.Take();
}

Signature SignHandshake(const SigningKey& key, const HandshakeTranscript& transcript,
                        HandshakeRole role) {
  // Only the side named by `role` may sign for it.
  METRONOME_ASSERT(key.public_key() == (role == HandshakeRole::kServer ? transcript.server_key
                                                                       : transcript.client_key));
  return SignTagged(key, kTagHandshake, transcript.federation_id,
                    EncodeHandshakeTranscript(transcript, role));
}

bool VerifyHandshake(const HandshakeTranscript& transcript, HandshakeRole role,
                     const Signature& signature) {
  const PublicKey& signer =
      role == HandshakeRole::kServer ? transcript.server_key : transcript.client_key;
  return VerifyTagged(signer, kTagHandshake, transcript.federation_id,
                      EncodeHandshakeTranscript(transcript, role), signature);
}

Nonce NewNonce() {
  static const int initialized = sodium_init();
  METRONOME_ASSERT(initialized >= 0);
  Nonce nonce;
  randombytes_buf(nonce.data(), nonce.size());
  return nonce;
}

}  // namespace metronome
