#ifndef METRONOME_SERVICES_POW_ADAPTER_SHELL_DEVCHAIN_NODE_H_
#define METRONOME_SERVICES_POW_ADAPTER_SHELL_DEVCHAIN_NODE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "metronome/v1/devchain.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/pow_adapter/core/chain_facts.h"
#include "services/pow_adapter/core/devchain.h"
#include "services/pow_adapter/shell/block_store.h"
#include "services/pow_adapter/shell/chain_backend.h"

// The devchain shell: the pure Devchain core (services/pow_adapter/core) plus
// persistence (RocksDB), a miner paced by a timer, P2P over gRPC (the Devchain service,
// proto/metronome/v1/devchain.proto), the admin service, and metrics. Thread-safe: one
// mutex serialises every call into the core.
namespace metronome::devchain {

struct NodeOptions {
  ChainParams params;
  std::string data_dir;  // Holds devchain.db and, while frozen, freeze-evidence.bin.
  // Peers' devchain_p2p addresses (host:port), at most kPeersMax.
  std::vector<std::string> peers;
  // This miner's share of the chain's hash rate, in (0, 1]; 0 = do not mine.
  double hash_rate_share = 0;
  // The chain's mean block interval when all shares sum to 1.
  uint64_t block_interval_ms = 1000;
  uint64_t seed = 1;                // The miner's random generator.
  std::string miner_id;             // Written into coinbases (at most 64 bytes).
  uint64_t sync_interval_ms = 500;  // How often each peer is polled for new headers.
  size_t max_message_bytes = 4 << 20;
  size_t push_queue_max = 64;  // Per peer; the oldest pushes are dropped beyond it.
};

constexpr size_t kPeersMax = 64;
constexpr size_t kLocatorMax = 64;
constexpr uint32_t kHeadersPerRequestMax = 2000;
constexpr uint32_t kHeadersPerSync = 500;
constexpr size_t kBlocksPerRequestMax = 128;
constexpr size_t kBlocksPerFetch = 64;

class DevchainNode final : public pow_adapter::ChainBackend {
 public:
  // Opens the database under options.data_dir and re-adds its blocks and checkpoint
  // state. Fails with a reason when the database cannot be opened or holds blocks the
  // parameters reject (e.g. another target).
  static absl::StatusOr<std::unique_ptr<DevchainNode>> Create(NodeOptions options,
                                                              prometheus::Registry* registry);
  ~DevchainNode() override;
  DevchainNode(const DevchainNode&) = delete;
  DevchainNode& operator=(const DevchainNode&) = delete;

  // Starts the miner (when the share is positive) and one worker per peer.
  void Start();
  // Stops and joins the threads. Idempotent.
  void Stop();

  grpc::Service* p2p_service();
  grpc::Service* admin_service();

  // Called (from any thread, with no lock held by the caller's stack) whenever the
  // freeze state changes, and once by Start: true while finality is frozen.
  void SetFrozenListener(std::function<void(bool frozen)> listener);
  // Called whenever the best tip changes, with the node's chain lock held: the listener
  // must not call back into the node (it should only note the change and wake a thread).
  void SetTipListener(std::function<void()> listener) override;

  // Validates and adds a block from a peer (or the miner), persisting it, counting a
  // rejection under its reason, and pushing a new tip to the peers.
  BlockOutcome HandleBlock(const Bytes& encoded);
  // Mines one block on the current tip now (the miner's timer calls this).
  BlockOutcome MineOne(uint64_t nonce_start);

  v1::DevchainStatusResponse Status();
  v1::DevchainApplyCertificateResponse ApplyCertificate(const v1::Certificate& certificate);
  // FAILED_PRECONDITION with the reason when not frozen or the evidence differs.
  absl::Status ClearFreeze(const Bytes& evidence);

  // The facts the Chain API client reports (chain.proto BlockQuery, BlockAtDepth),
  // each from one consistent view of the chain.
  BlockFactsAnswer Facts(const Bytes& hash, uint64_t height,
                         const std::optional<Bytes>& checkpoint_hash) override;
  BlockAtDepthAnswer AtDepth(uint64_t depth) override;
  // ChainBackend: the admin paths above, in the Chain API's terms.
  pow_adapter::ChainSnapshot Snapshot() override;
  v1::CheckpointApplied ApplyCheckpoint(const v1::Certificate& certificate) override;

  std::string evidence_path() const { return options_.data_dir + "/freeze-evidence.bin"; }

 private:
  class P2pService;
  class AdminService;
  struct Peer;
  struct Counters {
    uint64_t reorgs = 0;
    uint64_t reorgs_refused = 0;
    uint64_t max_reorg_depth = 0;
    uint64_t certificates_applied = 0;
    uint64_t certificates_ignored = 0;
    uint64_t blocks_mined = 0;
    std::map<std::string, uint64_t> blocks_rejected;
  };

  DevchainNode(NodeOptions options, prometheus::Registry* registry);
  absl::Status Restore();
  // REQUIRES chain_mutex_ held. Returns true when the tip changed.
  bool RecordTipChange(const TipChange& change, const char* cause);
  void CountRejection(const std::string& reason, const std::string& detail);
  void QueuePush(const Bytes& block);
  void RequestSync();
  void MinerLoop();
  void PeerLoop(Peer* peer);
  void SyncWith(Peer* peer);
  void PushTo(Peer* peer, const Bytes& block);
  void NotifyFrozen(bool frozen);
  uint64_t NowMs() const;

  NodeOptions options_;
  std::unique_ptr<P2pService> p2p_;
  std::unique_ptr<AdminService> admin_;

  std::mutex chain_mutex_;
  Devchain chain_;                     // Guarded by chain_mutex_.
  std::unique_ptr<BlockStore> store_;  // Guarded by chain_mutex_.
  Counters counters_;                  // Guarded by chain_mutex_.

  std::mutex listener_mutex_;
  std::function<void(bool)> frozen_listener_;
  std::mutex tip_listener_mutex_;
  std::function<void()> tip_listener_;  // Guarded by tip_listener_mutex_.

  // Threads and the peers' work queues.
  std::mutex work_mutex_;
  std::condition_variable work_cv_;
  bool stopping_ = false;  // Guarded by work_mutex_.
  bool started_ = false;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::thread miner_;

  // Metrics (prometheus-cpp metrics are thread-safe).
  // Sets the tip gauges. REQUIRES chain_mutex_ held.
  void UpdateTipMetrics();

  prometheus::Gauge* height_;
  prometheus::Family<prometheus::Gauge>* tip_;
  prometheus::Gauge* tip_series_ = nullptr;  // The current tip's series in tip_.
  prometheus::Gauge* block_count_;
  prometheus::Counter* reorgs_;
  prometheus::Histogram* reorg_depth_;
  prometheus::Counter* reorgs_refused_;
  prometheus::Gauge* checkpoint_height_;
  prometheus::Counter* certificates_applied_;
  prometheus::Family<prometheus::Counter>* certificates_ignored_;
  prometheus::Family<prometheus::Counter>* certificates_rejected_;
  prometheus::Gauge* frozen_;
  prometheus::Family<prometheus::Counter>* blocks_rejected_;
  prometheus::Counter* blocks_mined_;
  prometheus::Counter* blocks_accepted_;
  prometheus::Counter* pushes_dropped_;
  prometheus::Counter* peer_errors_;
};

}  // namespace metronome::devchain

#endif  // METRONOME_SERVICES_POW_ADAPTER_SHELL_DEVCHAIN_NODE_H_
