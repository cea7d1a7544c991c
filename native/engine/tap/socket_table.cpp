// The SocketTable API: creating sockets, writing, closing, and the deferred work that
// flush() and tick() run. lwIP's callbacks are in socket_table_callbacks.cpp, UDP in
// socket_table_udp.cpp.
#include "socket_table.h"

extern "C" {
#include <lwip/ip.h>
#include <lwip/priv/tcp_priv.h>
}

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "tap/ethernet_tap.h"
#include "tap/socket_table_internal.h"

namespace zts::tap {
namespace {

// Process-wide, never reset: a handle is not reused even by a later table, so a callback
// left on some pcb can never reach an unrelated socket.
SocketHandle gNextHandle = 1;
// tcp_poll's interval is in TCP_SLOW_INTERVAL ticks: retry stalled pushes every 2 s.
constexpr u8_t kPollTicks = 2000 / TCP_SLOW_INTERVAL;
// How often tick() looks for silent peers: timeouts are in seconds, lwIP's clock in 100 ms.
constexpr uint64_t kLivenessCheckMs = 100;

// States in which tcp_recved still matters (the peer may send, or lwIP checks the window
// on close).
bool receiving(const tcp_pcb* pcb) {
  return pcb->state == ESTABLISHED || pcb->state == FIN_WAIT_1 || pcb->state == FIN_WAIT_2 ||
         pcb->state == CLOSE_WAIT;
}

void recved(tcp_pcb* pcb, size_t n) {
  while (n > 0) {
    const auto k = static_cast<u16_t>(std::min<size_t>(n, 0xffff));  // tcp_recved takes u16_t
    tcp_recved(pcb, k);
    n -= k;
  }
}

// After this lwIP calls nothing of ours for the pcb; with recv unset it acknowledges and
// drops whatever still arrives (tcp_recv_null).
void detach(tcp_pcb* pcb) {
  tcp_arg(pcb, nullptr);
  if (pcb->state == LISTEN) {
    tcp_accept(pcb, nullptr);
    return;
  }
  tcp_recv(pcb, nullptr);
  tcp_sent(pcb, nullptr);
  tcp_err(pcb, nullptr);
  tcp_poll(pcb, nullptr, 0);
}

}  // namespace

SocketTable* SocketTable::instance_ = nullptr;

SocketTable::SocketTable(SocketEvents& events, SocketTableOptions options)
    : events_(events), options_(options) {
  if (instance_ != nullptr) throw std::logic_error("one SocketTable per process (lwIP is global)");
  initLwip();
  instance_ = this;
}

SocketTable::~SocketTable() {
  for (auto& [h, s] : sockets_) {
    if (s->udp != nullptr) udp_remove(s->udp);
    if (s->tcp == nullptr) continue;
    tcp_pcb* pcb = s->tcp;
    detach(pcb);
    if (s->kind == Kind::kListener)
      tcp_close(pcb);
    else
      tcp_abort(pcb);
  }
  sockets_.clear();
  instance_ = nullptr;
}

SocketTable::Socket* SocketTable::find(SocketHandle h) const {
  auto it = sockets_.find(h);
  return it == sockets_.end() ? nullptr : it->second.get();
}

SocketTable::Socket* SocketTable::live(SocketHandle h) const {
  Socket* s = find(h);
  return s != nullptr && !s->userClosed ? s : nullptr;
}

SocketHandle SocketTable::allocateHandle() {
  for (;;) {
    const SocketHandle h = gNextHandle++;
    if (h != 0 && sockets_.count(h) == 0) return h;
  }
}

SocketTable::Socket& SocketTable::add(Kind kind) {
  auto s = std::make_unique<Socket>();
  s->handle = allocateHandle();
  s->kind = kind;
  Socket& ref = *s;
  sockets_.emplace(ref.handle, std::move(s));
  return ref;
}

void SocketTable::attachTcp(Socket& s, tcp_pcb* pcb) {
  s.tcp = pcb;
  tcp_arg(pcb, handleArg(s.handle));
  tcp_recv(pcb, &Lwip::recv);
  tcp_sent(pcb, &Lwip::sent);
  tcp_err(pcb, &Lwip::error);
  tcp_poll(pcb, &Lwip::poll, kPollTicks);
}

void SocketTable::armTimer(Socket& s, uint32_t ms) {
  // Before the first tick() the table does not know the time: arm at the next one.
  if (now_ != 0)
    s.deadline = now_ + ms;
  else
    s.armMs = ms;
  if (!s.timed) timed_.push_back(s.handle);
  s.timed = true;
}

void SocketTable::erase(SocketHandle h) {
  sockets_.erase(h);
}

// --- TCP ---

int SocketTable::tcpConnect(const IpEndpoint& remote, const ConnectOptions& options,
                            SocketHandle* out) {
  if (out == nullptr) return ERR_ARG;
  if ((remote.len != 4 && remote.len != 16) || remote.port == 0) return ERR_VAL;
  ip_addr_t ip;
  toLwip(remote, &ip);
  // 127.0.0.1 and ::1 are the host's (node:net reaches them); nothing listens there on a
  // ZeroTier network, so refuse them the way a closed port would.
  if (isHostLoopbackOrAny(&ip)) return ERR_RST;
  if (isGroupAddress(&ip)) return ERR_VAL;

  tcp_pcb* pcb = tcp_new_ip_type(IP_GET_TYPE(&ip));
  if (pcb == nullptr) return ERR_MEM;
  if (options.localPort != 0) {
    const err_t err = tcp_bind(pcb, IP_IS_V4(&ip) ? IP4_ADDR_ANY : IP6_ADDR_ANY, options.localPort);
    if (err != ERR_OK) {
      tcp_close(pcb);  // CLOSED state: frees it
      return err;
    }
  }
  Socket& s = add(Kind::kTcp);
  s.connecting = true;
  attachTcp(s, pcb);
  const err_t err = tcp_connect(pcb, &ip, remote.port, &Lwip::connected);
  if (err != ERR_OK) {
    detach(pcb);
    tcp_close(pcb);
    erase(s.handle);
    return err;
  }
  s.remote = fromLwip(&ip, remote.port);
  s.local = fromLwip(&pcb->local_ip, pcb->local_port);
  if (options.timeoutMs != 0) armTimer(s, options.timeoutMs);
  *out = s.handle;
  return ERR_OK;
}

int SocketTable::tcpListen(const IpEndpoint& local, int backlog, SocketHandle* out) {
  if (out == nullptr) return ERR_ARG;
  ip_addr_t ip;
  toLwip(local, &ip);
  tcp_pcb* pcb = tcp_new_ip_type(local.len == 0 ? u8_t{IPADDR_TYPE_ANY} : IP_GET_TYPE(&ip));
  if (pcb == nullptr) return ERR_MEM;
  ip_set_option(pcb, SOF_REUSEADDR);
  err_t err = tcp_bind(pcb, &ip, local.port);
  if (err != ERR_OK) {
    tcp_close(pcb);
    return err;
  }
  // tcp_listen frees the pcb it was given and returns a smaller one, or fails and leaves
  // the original to us.
  const auto limit = static_cast<u8_t>(std::clamp(backlog, 1, 255));
  tcp_pcb* listener = tcp_listen_with_backlog_and_err(pcb, limit, &err);
  if (listener == nullptr) {
    tcp_close(pcb);
    return err;
  }
  Socket& s = add(Kind::kListener);
  s.tcp = listener;
  tcp_arg(listener, handleArg(s.handle));
  tcp_accept(listener, &Lwip::accept);
  s.local = fromLwip(&listener->local_ip, listener->local_port);
  *out = s.handle;
  return ERR_OK;
}

size_t SocketTable::pushToLwip(Socket& s, const uint8_t* data, size_t len) {
  size_t done = 0;
  while (done < len) {
    const size_t room = tcp_sndbuf(s.tcp);
    if (room == 0 || tcp_sndqueuelen(s.tcp) >= TCP_SND_QUEUELEN) break;
    // tcp_write takes at most 64 KiB - 1 a call.
    const auto n = static_cast<u16_t>(std::min<size_t>({len - done, room, 0xffff}));
    // Our buffers do not outlive the call: lwIP copies them into its segments.
    u8_t flags = TCP_WRITE_FLAG_COPY;
    if (done + n < len) flags |= TCP_WRITE_FLAG_MORE;
    // ERR_MEM: the segment queue is full; the sent or poll callback retries.
    if (tcp_write(s.tcp, data + done, n, flags) != ERR_OK) break;
    done += n;
  }
  if (done > 0) markDirty(s);
  return done;
}

void SocketTable::pushQueue(Socket& s) {
  while (!s.queue.empty() && s.tcp != nullptr) {
    const size_t front = s.queue.frontSize();
    const size_t n = pushToLwip(s, s.queue.frontData(), front);
    s.queue.consume(n);
    if (n < front) break;
  }
}

// After lwIP took queued bytes: the FIN a shutdown was waiting for, a lingering close,
// and onWritable.
void SocketTable::afterPush(Socket& s) {
  const SocketHandle h = s.handle;
  if (s.queue.empty() && s.shutdownRequested && !s.finSent && s.tcp != nullptr && !s.connecting)
    sendFin(s);
  if (s.userClosed) {
    if (s.queue.empty() && s.op == Op::kClose) {
      if (inLwip_ > 0)
        deferred_.push_back(h);
      else
        closeNow(h);
    }
    return;
  }
  if (s.wantWritable && s.queue.size() <= options_.writableMark) {
    s.wantWritable = false;
    events_.onWritable(h);
  }
}

void SocketTable::sendFin(Socket& s) {
  // Never frees the pcb (unlike tcp_close, which resets when receive data is unread), so
  // it is safe from inside lwIP's callbacks. ERR_MEM is retried by lwIP itself.
  tcp_shutdown(s.tcp, 0, 1);
  s.finSent = true;
  if (s.finReceived) releasePcb(s);
}

void SocketTable::markDirty(Socket& s) {
  if (s.dirty) return;
  s.dirty = true;
  dirty_.push_back(s.handle);
}

int64_t SocketTable::write(SocketHandle h, const uint8_t* data, size_t len) {
  Socket* s = live(h);
  if (s == nullptr) return ERR_ARG;
  if (s->kind != Kind::kTcp) return ERR_VAL;
  if (s->shutdownRequested || s->tcp == nullptr) return ERR_CLSD;
  size_t taken = 0;
  if (!s->connecting && s->queue.empty()) taken = pushToLwip(*s, data, len);
  const size_t room = options_.sendQueueBytes - std::min(options_.sendQueueBytes, s->queue.size());
  const size_t queued = std::min(len - taken, room);
  s->queue.append(data + taken, queued);
  taken += queued;
  if (taken < len) s->wantWritable = true;
  return static_cast<int64_t>(taken);
}

int SocketTable::shutdownWrite(SocketHandle h) {
  Socket* s = live(h);
  if (s == nullptr) return ERR_ARG;
  if (s->kind != Kind::kTcp) return ERR_VAL;
  if (s->shutdownRequested) return ERR_OK;
  if (s->tcp == nullptr) return ERR_CLSD;
  s->shutdownRequested = true;
  if (!s->connecting && s->queue.empty()) sendFin(*s);
  return ERR_OK;
}

void SocketTable::acknowledge(Socket& s, size_t n) {
  n = std::min(n, s.unconsumed);
  s.unconsumed -= n;
  if (s.tcp != nullptr && receiving(s.tcp)) recved(s.tcp, n);
}

int SocketTable::consumed(SocketHandle h, size_t n) {
  Socket* s = live(h);
  if (s == nullptr) return ERR_ARG;
  if (s->kind != Kind::kTcp) return ERR_VAL;
  acknowledge(*s, n);
  return ERR_OK;
}

int SocketTable::pause(SocketHandle h) {
  Socket* s = live(h);
  if (s == nullptr) return ERR_ARG;
  if (s->kind != Kind::kTcp) return ERR_VAL;
  s->paused = true;
  return ERR_OK;
}

int SocketTable::resume(SocketHandle h) {
  Socket* s = live(h);
  if (s == nullptr) return ERR_ARG;
  if (s->kind != Kind::kTcp) return ERR_VAL;
  s->paused = false;
  deliverHeld(h);
  return ERR_OK;
}

int SocketTable::setNoDelay(SocketHandle h, bool noDelay) {
  Socket* s = live(h);
  if (s == nullptr) return ERR_ARG;
  if (s->kind != Kind::kTcp) return ERR_VAL;
  if (s->tcp == nullptr) return ERR_CLSD;
  if (noDelay)
    tcp_nagle_disable(s->tcp);
  else
    tcp_nagle_enable(s->tcp);
  return ERR_OK;
}

size_t SocketTable::queuedBytes(SocketHandle h) const {
  const Socket* s = live(h);
  return s == nullptr ? 0 : s->queue.size();
}

// --- Closing ---

int SocketTable::close(SocketHandle h) {
  Socket* s = live(h);
  if (s == nullptr) return ERR_ARG;
  requestClose(*s, Op::kClose);
  return ERR_OK;
}

int SocketTable::abort(SocketHandle h) {
  Socket* s = live(h);
  if (s == nullptr) return ERR_ARG;
  requestClose(*s, Op::kAbort);
  return ERR_OK;
}

void SocketTable::requestClose(Socket& s, Op op) {
  s.userClosed = true;
  s.op = op;
  const SocketHandle h = s.handle;
  if (inLwip_ > 0) {
    deferred_.push_back(h);
  } else if (op == Op::kAbort) {
    abortNow(h);
  } else {
    closeNow(h);
  }
}

void SocketTable::closeNow(SocketHandle h) {
  Socket* s = find(h);
  if (s == nullptr) return;
  if (s->udp != nullptr) {
    udp_remove(s->udp);
    s->udp = nullptr;
  }
  if (s->kind == Kind::kListener && s->tcp != nullptr) {
    detach(s->tcp);
    tcp_close(s->tcp);  // frees a listener at once; never fails
    s->tcp = nullptr;
  }
  if (s->kind == Kind::kTcp && s->tcp != nullptr && !s->queue.empty()) {
    // Graceful: keep pushing from the sent callback, within the linger time.
    if (s->deadline == 0 && s->armMs == 0) armTimer(*s, options_.closeLingerMs);
    return;
  }
  if (s->tcp != nullptr) releasePcb(*s);
  erase(h);
}

void SocketTable::abortNow(SocketHandle h) {
  Socket* s = find(h);
  if (s == nullptr) return;
  if (s->kind == Kind::kTcp && s->tcp != nullptr) {
    tcp_pcb* pcb = s->tcp;
    s->tcp = nullptr;
    detach(pcb);  // tcp_abort would call our error callback
    tcp_abort(pcb);
    erase(h);
    return;
  }
  s->queue = ByteQueue();
  closeNow(h);
}

void SocketTable::releasePcb(Socket& s) {
  tcp_pcb* pcb = s.tcp;
  s.tcp = nullptr;
  detach(pcb);
  // tcp_close resets instead of closing when the window is not fully open (lwIP reads that
  // as unread data), so give back what the consumer still holds.
  if (pcb->state == ESTABLISHED || pcb->state == CLOSE_WAIT) recved(pcb, s.unconsumed);
  s.unconsumed = 0;
  if (tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
}

// --- Both ---

int SocketTable::localAddress(SocketHandle h, IpEndpoint* out) const {
  const Socket* s = live(h);
  if (s == nullptr || out == nullptr) return ERR_ARG;
  *out = s->local;
  return ERR_OK;
}

int SocketTable::remoteAddress(SocketHandle h, IpEndpoint* out) const {
  const Socket* s = live(h);
  if (s == nullptr || out == nullptr) return ERR_ARG;
  if (s->kind != Kind::kTcp) return ERR_CONN;
  *out = s->remote;
  return ERR_OK;
}

void SocketTable::flush() {
  if (inLwip_ > 0) return;  // a handler inside lwIP: the engine's own flush follows
  auto deferred = std::move(deferred_);
  deferred_.clear();
  for (SocketHandle h : deferred) {
    Socket* s = find(h);
    if (s == nullptr || !s->userClosed) continue;
    if (s->op == Op::kAbort)
      abortNow(h);
    else
      closeNow(h);
  }
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (SocketHandle h : dirty) {
    Socket* s = find(h);
    if (s == nullptr) continue;
    s->dirty = false;
    if (s->tcp != nullptr && !s->connecting) tcp_output(s->tcp);
  }
}

void SocketTable::tick(uint64_t nowMs) {
  now_ = nowMs;
  if (inLwip_ > 0) return;  // aborting from inside lwIP is what flush() exists to avoid
  std::vector<SocketHandle> expired;
  size_t kept = 0;
  for (SocketHandle h : timed_) {
    Socket* s = find(h);
    if (s == nullptr) continue;
    if (s->deadline == 0 && s->armMs == 0) {  // disarmed (connected)
      s->timed = false;
      continue;
    }
    if (s->armMs != 0) {
      s->deadline = nowMs + s->armMs;
      s->armMs = 0;
    }
    if (nowMs >= s->deadline) {
      s->timed = false;
      expired.push_back(h);
    } else {
      timed_[kept++] = h;
    }
  }
  timed_.resize(kept);
  for (SocketHandle h : expired) {
    Socket* s = find(h);
    if (s == nullptr) continue;
    if (s->userClosed) {
      abortNow(h);  // the linger ran out
    } else if (s->connecting) {
      abortNow(h);
      events_.onConnect(h, ERR_TIMEOUT);
    } else {
      s->deadline = 0;
    }
  }
  if (nowMs - lastLivenessCheck_ >= kLivenessCheckMs) {
    lastLivenessCheck_ = nowMs;
    checkLiveness();
  }
  flush();
}

}  // namespace zts::tap
