#ifndef METRONOME_SERVICES_INTERPRETER_SHELL_CHAIN_SERVER_H_
#define METRONOME_SERVICES_INTERPRETER_SHELL_CHAIN_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

#include "common/ed25519.h"
#include "common/federation.h"
#include "metronome/v1/chain.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

// The interpreter's end of Chain.Attach (proto/metronome/v1/chain.proto): the member's
// pow-adapter connects, proves it holds the adapter key named in the interpreter config
// (handshake of types.proto, the interpreter's key as the server's), and then the two
// exchange frames. One adapter at a time: a newer authenticated stream replaces the
// older, which is closed with ABORTED. It knows no checkpoint rules: frames go to a
// Handler, and Send queues frames for the attached adapter (bounded; a writer thread
// per stream drains it, so a slow adapter never blocks the sender).
namespace metronome::interpreter {

constexpr char kChainServiceName[] = "metronome.v1.Chain";

struct ChainServerOptions {
  PublicKey adapter_key{};             // The only client key accepted.
  size_t max_message_bytes = 4 << 20;  // A larger frame closes the stream.
  size_t queue_max = 1024;             // Frames queued for the adapter; beyond, oldest dropped.
  uint64_t handshake_timeout_ms = 5000;
};

class ChainServer {
 public:
  // What the server reports, from gRPC handler threads. Each authenticated stream has a
  // fresh id (from 1). For one stream: OnAttached, then OnFrame for each application
  // frame in order, then OnDetached, unless a newer stream replaced it (its OnAttached
  // comes first; frames the older one had in flight may still arrive with its id).
  // Handlers must return promptly: the stream is not read while they run.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void OnAdapterAttached(uint64_t stream_id) = 0;
    virtual void OnAdapterDetached(uint64_t stream_id) = 0;
    virtual void OnAdapterFrame(uint64_t stream_id, v1::AdapterToInterpreter frame) = 0;
  };

  // `handler` and `registry` must outlive the server; the key and the federation id are
  // copied. Registers metronome_interpreter_adapter_* metrics on `registry`.
  ChainServer(ChainServerOptions options, const Federation& federation,
              const SigningKey& interpreter_key, Handler* handler, prometheus::Registry* registry);
  ~ChainServer();
  ChainServer(const ChainServer&) = delete;
  ChainServer& operator=(const ChainServer&) = delete;

  // The gRPC service to register on a server (common/server.h).
  grpc::Service* service();

  // Queues a frame for the attached adapter. Thread-safe, never blocks. False when no
  // adapter is attached or the frame is larger than max_message_bytes.
  bool Send(v1::InterpreterToAdapter frame);
  // The attached stream's id, 0 when none.
  uint64_t attached_stream();
  // Closes the attached stream and refuses new ones; the server's own shutdown ends
  // the handlers. Idempotent.
  void Stop();

 private:
  class Service;
  class Attachment;
  using Stream = grpc::ServerReaderWriter<v1::InterpreterToAdapter, v1::AdapterToInterpreter>;

  grpc::Status Serve(grpc::ServerContext* context, Stream* stream);
  grpc::Status Handshake(grpc::ServerContext* context, Stream* stream, std::string* reason);

  const ChainServerOptions options_;
  const Hash256 federation_id_;
  const SigningKey key_;
  Handler* const handler_;
  std::unique_ptr<Service> service_;

  std::mutex mutex_;
  std::shared_ptr<Attachment> current_;  // Guarded by mutex_.
  uint64_t next_stream_id_ = 1;          // Guarded by mutex_.
  bool stopping_ = false;                // Guarded by mutex_.

  prometheus::Gauge* attached_gauge_;
  prometheus::Counter* attaches_;
  prometheus::Family<prometheus::Counter>* failures_;
  prometheus::Counter* frames_dropped_;
};

}  // namespace metronome::interpreter

#endif  // METRONOME_SERVICES_INTERPRETER_SHELL_CHAIN_SERVER_H_
