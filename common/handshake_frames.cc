#include "common/handshake_frames.h"

#include <algorithm>

#include "common/proto_bytes.h"

namespace metronome {

ClientHello StartClientHandshake(const std::string& service, const Hash256& federation_id,
                                 const PublicKey& client_key) {
  ClientHello out;
  out.started.service = service;
  out.started.federation_id = federation_id;
  out.started.client_key = client_key;
  out.started.client_nonce = NewNonce();
  out.hello.set_protocol_version(out.started.protocol_version);
  out.hello.set_federation_id(StringOf(federation_id));
  out.hello.set_public_key(StringOf(client_key));
  out.hello.set_nonce(StringOf(out.started.client_nonce));
  return out;
}

std::optional<HandshakeTranscript> CheckChallenge(const HandshakeTranscript& started,
                                                  const v1::HandshakeChallenge& challenge,
                                                  const std::optional<PublicKey>& expected_key,
                                                  std::string* reason) {
  HandshakeTranscript transcript = started;
  Signature signature;
  if (!CopyFixed(challenge.public_key(), &transcript.server_key) ||
      !CopyFixed(challenge.nonce(), &transcript.server_nonce) ||
      !CopyFixed(challenge.signature(), &signature)) {
    *reason = "malformed_challenge";
    return std::nullopt;
  }
  if (challenge.protocol_version() != started.protocol_version) {
    *reason = "protocol_version";
    return std::nullopt;
  }
  if (expected_key && *expected_key != transcript.server_key) {
    *reason = "unexpected_server_key";
    return std::nullopt;
  }
  if (!VerifyHandshake(transcript, HandshakeRole::kServer, signature)) {
    *reason = "bad_signature";
    return std::nullopt;
  }
  return transcript;
}

grpc::Status AnswerHello(const v1::HandshakeHello& hello, const std::string& service,
                         const Hash256& federation_id, const SigningKey& server_key,
                         const std::function<bool(const PublicKey&)>& accept_client,
                         const std::string& who, HandshakeTranscript* transcript,
                         v1::HandshakeChallenge* challenge) {
  HandshakeTranscript out;
  out.service = service;
  Hash256 hello_federation;
  if (!CopyFixed(hello.federation_id(), &hello_federation) ||
      !CopyFixed(hello.public_key(), &out.client_key) ||
      !CopyFixed(hello.nonce(), &out.client_nonce)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "malformed hello: federation id, key and nonce must be 32 bytes");
  }
  if (hello.protocol_version() != kHandshakeProtocolVersion) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "unsupported protocol version " + std::to_string(hello.protocol_version()));
  }
  if (hello_federation != federation_id) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "hello names another federation: " + ToHex(hello_federation));
  }
  if (out.client_key == server_key.public_key() || !accept_client(out.client_key)) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "key " + ToHex(out.client_key) + " is not " + who);
  }
  out.federation_id = federation_id;
  out.server_key = server_key.public_key();
  out.server_nonce = NewNonce();
  const Signature signature = SignHandshake(server_key, out, HandshakeRole::kServer);
  challenge->set_protocol_version(kHandshakeProtocolVersion);
  challenge->set_public_key(StringOf(out.server_key));
  challenge->set_nonce(StringOf(out.server_nonce));
  challenge->set_signature(StringOf(signature));
  *transcript = out;
  return grpc::Status::OK;
}

grpc::Status CheckChallengeResponse(const HandshakeTranscript& transcript,
                                    const v1::HandshakeResponse& response) {
  Signature signature;
  if (!CopyFixed(response.signature(), &signature)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "malformed challenge_response: signature must be 64 bytes");
  }
  if (!VerifyHandshake(transcript, HandshakeRole::kClient, signature)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad client handshake signature");
  }
  return grpc::Status::OK;
}

uint64_t ReconnectDelayMs(uint64_t min_ms, uint64_t max_ms, uint32_t failures,
                          std::mt19937_64* random) {
  max_ms = std::max(max_ms, min_ms);
  uint64_t delay = min_ms;
  for (uint32_t i = 0; i < failures && delay < max_ms; ++i) delay *= 2;
  delay = std::min(std::max<uint64_t>(delay, 1), max_ms);
  std::uniform_int_distribution<uint64_t> jitter(delay / 2, delay);
  return jitter(*random);
}

}  // namespace metronome
