#ifndef METRONOME_COMMON_HANDSHAKE_FRAMES_H_
#define METRONOME_COMMON_HANDSHAKE_FRAMES_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <optional>
#include <random>
#include <string>

#include "common/ed25519.h"
#include "common/handshake.h"
#include "metronome/v1/types.pb.h"

// The challenge-response handshake of types.proto on protobuf frames, shared by every
// link (Federation.Connect, Interpreter.Attach, Chain.Attach), both sides. The
// transcript and its signatures are in common/handshake.h; this file only checks and
// builds frames. Pure functions apart from nonce generation; thread-safe.
namespace metronome {

// Client side, step 1: a transcript with our half filled in and the hello to send.
struct ClientHello {
  HandshakeTranscript started;
  v1::HandshakeHello hello;
};
ClientHello StartClientHandshake(const std::string& service, const Hash256& federation_id,
                                 const PublicKey& client_key);

// Client side, step 2: checks the server's challenge against the transcript the client
// started. On success returns the full transcript (server key and nonce added), which
// the client then signs (SignHandshake, role client); otherwise nullopt with `reason`
// set to a short code ("malformed_challenge", "protocol_version",
// "unexpected_server_key", "bad_signature").
std::optional<HandshakeTranscript> CheckChallenge(const HandshakeTranscript& started,
                                                  const v1::HandshakeChallenge& challenge,
                                                  const std::optional<PublicKey>& expected_key,
                                                  std::string* reason);

// Server side, step 1: checks a hello and, when it passes, fills `transcript` (service,
// federation, both keys and nonces) and `challenge` (signed by `server_key`).
// `accept_client` says whether the client's key is one this link accepts; `who` names
// the expected client in the error ("a federation member", "the interpreter key").
// Failures are the statuses types.proto lists, with a reason.
grpc::Status AnswerHello(const v1::HandshakeHello& hello, const std::string& service,
                         const Hash256& federation_id, const SigningKey& server_key,
                         const std::function<bool(const PublicKey&)>& accept_client,
                         const std::string& who, HandshakeTranscript* transcript,
                         v1::HandshakeChallenge* challenge);

// Server side, step 2: verifies the client's signature over the transcript.
grpc::Status CheckChallengeResponse(const HandshakeTranscript& transcript,
                                    const v1::HandshakeResponse& response);

// Next reconnect delay: min * 2^failures capped at max, then a uniform jitter in
// [delay/2, delay]. Pure apart from `random`.
uint64_t ReconnectDelayMs(uint64_t min_ms, uint64_t max_ms, uint32_t failures,
                          std::mt19937_64* random);

}  // namespace metronome

#endif  // METRONOME_COMMON_HANDSHAKE_FRAMES_H_
