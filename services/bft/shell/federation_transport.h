#ifndef METRONOME_SERVICES_BFT_SHELL_FEDERATION_TRANSPORT_H_
#define METRONOME_SERVICES_BFT_SHELL_FEDERATION_TRANSPORT_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/ed25519.h"
#include "common/federation.h"
#include "metronome/v1/federation.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

// The member-to-member link of one federation (federation.proto): every member serves
// Federation.Connect and dials every other member. Each stream opens with the
// challenge-response handshake (common/handshake_frames.h) binding it to a member key
// and the federation id. When two members end up with two streams between them (both
// dialled at once), both keep the one dialled by the lower member index and close the
// other, so they agree without talking about it. A lost stream is redialled with
// exponential backoff and jitter; a peer silent for `peer_silence_ms` (heartbeats keep
// idle links alive) is cut off and redialled.
//
// Sending never blocks: each peer has a bounded queue drained by its own writer thread;
// beyond `peer_queue_max` the oldest frames are dropped (and counted) since consensus
// recovers lost messages by timeouts and sync. Received messages are handed to
// `on_message` from the stream's reader thread; it must not block for long.
// Thread-safe.
namespace metronome::bft {

constexpr char kFederationServiceName[] = "metronome.v1.Federation";

struct TransportOptions {
  std::vector<std::string> peer_addresses;  // In member order; our own entry is unused.
  size_t max_message_bytes = 4 << 20;
  size_t peer_queue_max = 1024;
  uint64_t heartbeat_interval_ms = 1000;
  uint64_t peer_silence_ms = 5000;
  uint64_t reconnect_min_ms = 100;
  uint64_t reconnect_max_ms = 5000;
  uint64_t handshake_timeout_ms = 5000;
};

class FederationTransport {
 public:
  // (peer index, message) for every consensus message from an authenticated peer.
  using MessageHandler = std::function<void(uint32_t from, v1::ConsensusMessage message)>;
  // Called when a stream to `peer` is established (after the handshake).
  using ConnectHandler = std::function<void(uint32_t peer)>;

  FederationTransport(TransportOptions options, const Federation& federation, uint32_t self,
                      const SigningKey& key, prometheus::Registry* registry);
  ~FederationTransport();
  FederationTransport(const FederationTransport&) = delete;
  FederationTransport& operator=(const FederationTransport&) = delete;

  // Must be set before Start.
  void SetHandlers(MessageHandler on_message, ConnectHandler on_connect);
  // Starts one dialler per peer.
  void Start();
  // Closes every stream and joins every thread. Idempotent.
  void Stop();

  // Queues a message for `peer` (dropped when no stream is up: consensus recovers).
  void Send(uint32_t peer, const v1::ConsensusMessage& message, const char* type);
  size_t ConnectedPeers();

  grpc::Service* service();

 private:
  class Service;
  struct Link;
  struct Peer;

  void DialLoop(Peer* peer);
  // Runs one authenticated stream until it ends: reads frames, hands messages over.
  void ReadLoop(Link* link, const std::function<bool(v1::FederationFrame*)>& read);
  void WriteLoop(Link* link, const std::function<bool(const v1::FederationFrame&)>& write);
  // Makes `link` the peer's live link, or refuses it (returns false) when the live one
  // wins the tie-break.
  bool Adopt(const std::shared_ptr<Link>& link);
  void Retire(Link* link);
  grpc::Status ServeStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::FederationFrame, v1::FederationFrame>* stream);
  void CountFailure(const std::string& reason);

  TransportOptions options_;
  const Federation& federation_;
  uint32_t self_;
  SigningKey key_;
  std::unique_ptr<Service> service_;
  MessageHandler on_message_;
  ConnectHandler on_connect_;

  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;  // Guarded by mutex_.
  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<std::thread> diallers_;

  prometheus::Gauge* peers_connected_;
  prometheus::Family<prometheus::Counter>* messages_sent_;
  prometheus::Family<prometheus::Counter>* link_failures_;
  prometheus::Counter* frames_dropped_;
  prometheus::Counter* connects_;
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_SHELL_FEDERATION_TRANSPORT_H_
