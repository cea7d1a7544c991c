#include "engine.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "../engine/crypto/primitives.h"

namespace zts::addon {
namespace {

constexpr size_t kRecvBatch = 32;
constexpr size_t kRecvSlot = 10240;  // > the largest ZeroTier datagram (10,024)
constexpr size_t kSendBatch = 64;

int openUdp(int family, const std::string& bindIp, uint16_t port, int& error) {
  const int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = -errno;
    return -1;
  }
  const int one = 1;
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  // Larger kernel buffers absorb bursts between two turns of the engine loop.
  const int bufSize = 4 * 1024 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufSize, sizeof bufSize);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufSize, sizeof bufSize);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    if (inet_pton(AF_INET, bindIp.c_str(), &sin->sin_addr) != 1) {
      close(fd);
      error = -EINVAL;
      return -1;
    }
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, bindIp.c_str(), &sin6->sin6_addr) != 1) {
      close(fd);
      error = -EINVAL;
      return -1;
    }
    len = sizeof(sockaddr_in6);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    error = -errno;
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t boundPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

}  // namespace

class Engine::Host : public vl1::CoreHost {
 public:
  explicit Host(Engine& e) : engine_(e) {}
  void sendDatagram(int64_t localSocket, const vl1::InetAddress& to, const uint8_t* data,
                    size_t len) override {
    engine_.queueSend(localSocket, to, data, len);
  }
  void checkIdentity(const vl1::Identity& identity) override {
    engine_.checkIdentityOffThread(identity);
  }
  void onFrame(uint64_t nwid, uint64_t dst, uint64_t src, uint16_t etherType, const uint8_t* data,
               size_t len) override {
    engine_.taps().queueInbound(nwid, dst, src, etherType, data, len);
  }
  void onEvent(vl1::CoreEvent&& event) override {
    engine_.onNetworkEvent(event);
    EngineEvent e;
    e.kind = EngineEvent::Kind::kCore;
    e.core = std::move(event);
    engine_.emit(std::move(e));
  }
  void sendNatOpener(int64_t, const vl1::InetAddress& to, const uint8_t* data, size_t len,
                     unsigned ttl) override {
    engine_.sendWithTtl(to, data, len, ttl);
  }
  uint64_t random64() override {
    uint64_t v;
    crypto::randomBytes(reinterpret_cast<uint8_t*>(&v), sizeof v);
    return v;
  }

 private:
  Engine& engine_;
};

Engine::Engine(EngineOptions options, EventSink sink)
    : options_(std::move(options)), sink_(std::move(sink)) {}

Engine::~Engine() {
  stop();
  for (int& fd : fds_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

int64_t Engine::now() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Engine::start(int& error) {
  error = 0;
  fds_[0] = openUdp(AF_INET, options_.bindV4, options_.port, error);
  if (fds_[0] < 0) return false;
  port_ = boundPort(fds_[0]);
  if (!options_.bindV6.empty()) {
    int err6 = 0;
    fds_[1] = openUdp(AF_INET6, options_.bindV6, port_, err6);
    // A machine without IPv6 still runs on IPv4; a taken port is an error.
    if (fds_[1] < 0 && err6 == -EADDRINUSE) {
      error = err6;
      close(fds_[0]);
      fds_[0] = -1;
      return false;
    }
  }
  host_ = std::make_unique<Host>(*this);
  if (options_.controller) {
    std::string stateError;
    controller_ = std::make_unique<ControllerApi>(options_.core.identity, options_.controllerState,
                                                  &stateError);
    options_.core.configRequestHandler = [this](int64_t t, const vl1::Identity& member,
                                                uint64_t nwid, const std::vector<uint8_t>& md) {
      return controller_->answer(t, member, nwid, md);
    };
  }
  core_ = std::make_unique<vl1::NodeCore>(options_.core, *host_);
  taps_ = std::make_unique<tap::NetworkTaps>(
      options_.core.identity.address(),
      [this](uint64_t nwid, uint64_t dst, uint64_t src, uint16_t type, const uint8_t* d, size_t n) {
        core_->sendFrame(now(), nwid, dst, src, type, d, n);
      });
  sockets_ = std::make_unique<SocketBridge>(
      [this](SocketEvent&& s) {
        EngineEvent e;
        e.kind = EngineEvent::Kind::kSocket;
        e.socket = std::move(s);
        emit(std::move(e));
      },
      options_.sockets);
  returns_ = std::make_unique<tap::PeerReturnWatch>(tap::PeerReturnWatch::Hooks{
      [this] { return sockets_->table().silentPeers(tap::PeerReturnWatch::kSilentMs); },
      [this](const tap::IpEndpoint& ip) { return taps_->peerAddressOf(ip); },
      [this](uint64_t address) -> int64_t {
        const vl1::Peer* p = core_->peer(address);
        return p != nullptr ? p->lastReceive : 0;
      },
      [this](uint64_t address) { core_->probePeer(now(), address); },
      [this](uint64_t address, int64_t since) { core_->peerReturned(address, since); },
      [this](const tap::IpEndpoint& ip) { sockets_->table().retransmitNow(ip); }});
  inBytes_.resize(kRecvBatch * kRecvSlot);
  // The handles are set up here, before the thread exists, so that post() and stop() can
  // wake the loop from the first moment; from here on only the engine thread touches them.
  uv_loop_init(&loop_);
  loop_.data = this;
  uv_async_init(&loop_, &wake_,
                [](uv_async_t* h) { static_cast<Engine*>(h->loop->data)->onWake(); });
  uv_timer_init(&loop_, &timer_);
  for (int i = 0; i < 2; ++i) {
    if (fds_[i] < 0) continue;
    uv_poll_init(&loop_, &polls_[i], fds_[i]);
    polls_[i].data = reinterpret_cast<void*>(static_cast<intptr_t>(i));
    uv_poll_start(&polls_[i], UV_READABLE, [](uv_poll_t* h, int status, int) {
      if (status < 0) return;
      static_cast<Engine*>(h->loop->data)
          ->onReadable(static_cast<int>(reinterpret_cast<intptr_t>(h->data)));
    });
  }
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return true;
}

void Engine::post(std::function<void(Engine&)> command) {
  {
    std::lock_guard<std::mutex> lock(commandsLock_);
    if (!running_) return;
    commands_.push_back(std::move(command));
  }
  uv_async_send(&wake_);
}

void Engine::stop() {
  {
    std::lock_guard<std::mutex> lock(commandsLock_);
    if (!running_) {
      if (thread_.joinable()) thread_.join();
      return;
    }
    running_ = false;
    commands_.push_back([](Engine& e) { e.stopping_ = true; });
  }
  uv_async_send(&wake_);
  thread_.join();
}

void Engine::run() {
  core_->start(now());
  afterActivity();
  uv_timer_start(
      &timer_, [](uv_timer_t* h) { static_cast<Engine*>(h->loop->data)->onTimer(); }, 1, 0);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

void Engine::onWake() {
  std::vector<std::function<void(Engine&)>> commands;
  {
    std::lock_guard<std::mutex> lock(commandsLock_);
    commands.swap(commands_);
  }
  for (auto& c : commands) c(*this);
  afterActivity();
  if (stopping_) {
    returns_.reset();
    sockets_.reset();  // sockets before the netifs their addresses live on
    taps_.reset();     // lwIP's netifs go before the loop does
    uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
    for (int i = 0; i < 2; ++i)
      if (fds_[i] >= 0) uv_close(reinterpret_cast<uv_handle_t*>(&polls_[i]), nullptr);
  }
}

void Engine::onReadable(int socketIndex) {
  mmsghdr msgs[kRecvBatch];
  iovec iovs[kRecvBatch];
  sockaddr_storage froms[kRecvBatch];
  // Drain the socket in batches, but yield to timers and commands after a while.
  for (int round = 0; round < 8; ++round) {
    for (size_t i = 0; i < kRecvBatch; ++i) {
      iovs[i] = {inBytes_.data() + i * kRecvSlot, kRecvSlot};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_name = &froms[i];
      msgs[i].msg_hdr.msg_namelen = sizeof froms[i];
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = recvmmsg(fds_[socketIndex], msgs, kRecvBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;
    const int64_t t = now();
    for (int i = 0; i < n; ++i) {
      if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) continue;
      auto from = vl1::InetAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&froms[i]));
      if (!from) continue;
      core_->processDatagram(t, socketIndex, *from, inBytes_.data() + i * kRecvSlot,
                             msgs[i].msg_len);
    }
    if (static_cast<size_t>(n) < kRecvBatch) break;
  }
  afterActivity();
}

void Engine::onTimer() {
  const int64_t t = now();
  const int64_t coreNext = core_->processTimers(t) - t;
  const int64_t lwipNext = taps_->runTimers();
  sockets_->tick(static_cast<uint64_t>(t));
  if (t - lastReturnsTick_ >= tap::PeerReturnWatch::kProbeIntervalMs) {
    lastReturnsTick_ = t;
    returns_->tick(t);
  }
  const int64_t next = t + std::min(coreNext, lwipNext);
  afterActivity();
  if (!stopping_)
    uv_timer_start(
        &timer_, [](uv_timer_t* h) { static_cast<Engine*>(h->loop->data)->onTimer(); },
        static_cast<uint64_t>(std::max<int64_t>(1, next - t)), 0);
}

void Engine::afterActivity() {
  if (returns_ && returns_->watched() > 0) returns_->check(now());
  // Sending to our own address loops inside lwIP: keep turning until that settles (an
  // answer to a looped packet may loop again), but never forever.
  for (int turn = 0; turn < 64; ++turn) {
    if (taps_) taps_->deliver();
    if (sockets_) sockets_->flush();
    if (!taps_ || !taps_->loopbackPending()) break;
  }
  // Still busy talking to itself: carry on after the loop's other work.
  if (taps_ && taps_->loopbackPending() && !stopping_) uv_async_send(&wake_);
  flushOutbox();
  if (!pending_.empty()) {
    std::vector<EngineEvent> batch;
    batch.swap(pending_);
    sink_(std::move(batch));
  }
}

void Engine::queueSend(int64_t localSocket, const vl1::InetAddress& to, const uint8_t* data,
                       size_t len) {
  int socket = to.isV6() ? 1 : 0;
  if (localSocket == 0 || localSocket == 1) socket = static_cast<int>(localSocket);
  if (to.isV6() != (socket == 1)) socket = to.isV6() ? 1 : 0;
  if (fds_[socket] < 0) return;
  Outgoing o;
  o.socket = socket;
  o.toLen = to.toSockaddr(&o.to);
  if (o.toLen == 0) return;
  o.offset = outBytes_.size();
  o.len = len;
  outBytes_.insert(outBytes_.end(), data, data + len);
  outbox_.push_back(o);
}

void Engine::sendWithTtl(const vl1::InetAddress& to, const uint8_t* data, size_t len,
                         unsigned ttl) {
  if (!to.isV4() || fds_[0] < 0) return;
  flushOutbox();  // keep the order of what was queued before
  sockaddr_storage ss{};
  const unsigned ssLen = to.toSockaddr(&ss);
  int previous = 64;
  socklen_t optLen = sizeof previous;
  getsockopt(fds_[0], IPPROTO_IP, IP_TTL, &previous, &optLen);
  const int low = static_cast<int>(ttl);
  setsockopt(fds_[0], IPPROTO_IP, IP_TTL, &low, sizeof low);
  sendto(fds_[0], data, len, 0, reinterpret_cast<sockaddr*>(&ss), ssLen);
  setsockopt(fds_[0], IPPROTO_IP, IP_TTL, &previous, sizeof previous);
}

void Engine::flushOutbox() {
  if (outbox_.empty()) return;
  // One sendmmsg per socket and batch: the kernel crossing dominates small datagrams.
  for (int socket = 0; socket < 2; ++socket) {
    mmsghdr msgs[kSendBatch];
    iovec iovs[kSendBatch];
    size_t n = 0;
    auto flush = [&] {
      size_t sent = 0;
      while (sent < n) {
        const int r = sendmmsg(fds_[socket], msgs + sent, static_cast<unsigned>(n - sent), 0);
        if (r <= 0) break;  // EAGAIN or an unreachable peer: UDP may drop, as on a wire
        sent += static_cast<size_t>(r);
      }
      n = 0;
    };
    for (auto& o : outbox_) {
      if (o.socket != socket) continue;
      iovs[n] = {outBytes_.data() + o.offset, o.len};
      msgs[n].msg_hdr = {};
      msgs[n].msg_hdr.msg_name = &o.to;
      msgs[n].msg_hdr.msg_namelen = o.toLen;
      msgs[n].msg_hdr.msg_iov = &iovs[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
      if (++n == kSendBatch) flush();
    }
    if (n > 0) flush();
  }
  outbox_.clear();
  outBytes_.clear();
}

void Engine::onNetworkEvent(const vl1::CoreEvent& e) {
  using T = vl1::CoreEvent::Type;
  if (e.type == T::kNetworkConfig) {
    if (const auto* net = core_->network(e.network); net != nullptr && net->config)
      taps_->configure(e.network, *net->config);
  } else if (e.type == T::kNetworkLeft) {
    taps_->remove(e.network);
  } else if (e.type == T::kNetworkStatus &&
             (e.value == static_cast<int64_t>(vl2::NetworkStatus::kAccessDenied) ||
              e.value == static_cast<int64_t>(vl2::NetworkStatus::kNotFound))) {
    taps_->remove(e.network);
  }
}

void Engine::checkIdentityOffThread(const vl1::Identity& identity) {
  struct Work {
    uv_work_t req;
    vl1::Identity identity;
    bool valid = false;
  };
  auto* w = new Work{{}, identity, false};
  w->req.data = w;
  uv_queue_work(
      &loop_, &w->req,
      [](uv_work_t* req) {
        auto* work = static_cast<Work*>(req->data);
        work->valid = work->identity.locallyValidate();
      },
      [](uv_work_t* req, int status) {
        auto* work = static_cast<Work*>(req->data);
        auto* engine = static_cast<Engine*>(req->loop->data);
        if (status == 0 && !engine->stopping_) {
          engine->core_->identityChecked(engine->now(), work->identity, work->valid);
          engine->afterActivity();
        }
        delete work;
      });
}

}  // namespace zts::addon
