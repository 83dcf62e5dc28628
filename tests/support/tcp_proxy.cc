#include "tests/support/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace metronome::testing {
namespace {

constexpr int kPollMs = 50;

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t written = send(fd, data, size, MSG_NOSIGNAL);
    if (written <= 0) return false;
    data += written;
    size -= static_cast<size_t>(written);
  }
  return true;
}

}  // namespace

// Both directions of one proxied connection; the first to end closes both sockets.
struct TcpProxy::Pipe {
  std::atomic<bool> closed{false};
  int client_fd = -1;
  int upstream_fd = -1;
  void Close() {
    if (closed.exchange(true)) return;
    shutdown(client_fd, SHUT_RDWR);
    shutdown(upstream_fd, SHUT_RDWR);
  }
  ~Pipe() {
    close(client_fd);
    close(upstream_fd);
  }
};

TcpProxy::TcpProxy(int listen_port, int target_port) : target_port_(target_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address = Loopback(listen_port);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(listen_fd_, 64) != 0) {
    std::perror("TcpProxy: bind/listen");
    std::abort();
  }
  socklen_t length = sizeof(address);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  std::vector<std::thread> forwarders;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    forwarders.swap(forwarders_);
  }
  for (std::thread& thread : forwarders) thread.join();
}

void TcpProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd poll_fd{listen_fd_, POLLIN, 0};
    if (poll(&poll_fd, 1, kPollMs) <= 0) continue;
    const int client_fd = accept(listen_fd_, nullptr, nullptr);
    if (client_fd < 0) continue;
    const int upstream_fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in target = Loopback(target_port_);
    if (connect(upstream_fd, reinterpret_cast<sockaddr*>(&target), sizeof(target)) != 0) {
      // The target is down: the client sees the connection closed, as it would directly.
      close(upstream_fd);
      close(client_fd);
      continue;
    }
    const int one = 1;
    setsockopt(client_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(upstream_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ++connections_;
    auto pipe = std::make_shared<Pipe>();
    pipe->client_fd = client_fd;
    pipe->upstream_fd = upstream_fd;
    std::lock_guard<std::mutex> lock(mutex_);
    forwarders_.emplace_back([this, pipe] { Forward(pipe->client_fd, pipe->upstream_fd, pipe); });
    forwarders_.emplace_back([this, pipe] { Forward(pipe->upstream_fd, pipe->client_fd, pipe); });
  }
}

void TcpProxy::Forward(int from_fd, int to_fd, std::shared_ptr<Pipe> pipe) {
  char buffer[16384];
  while (!stopping_ && !pipe->closed) {
    if (partitioned_) {
      // Hold the bytes in the kernel buffers: neither end sees a close.
      pollfd idle{from_fd, 0, 0};
      poll(&idle, 1, kPollMs);
      continue;
    }
    pollfd poll_fd{from_fd, POLLIN, 0};
    if (poll(&poll_fd, 1, kPollMs) <= 0) continue;
    const ssize_t received = recv(from_fd, buffer, sizeof(buffer), 0);
    if (received <= 0 || !WriteAll(to_fd, buffer, static_cast<size_t>(received))) break;
  }
  pipe->Close();
}

}  // namespace metronome::testing
