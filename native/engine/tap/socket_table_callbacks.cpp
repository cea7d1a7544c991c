// lwIP's callbacks into the SocketTable, and the receive side they drive.
//
// Each callback maps its arg (a handle) to a socket and checks that the pcb is still the
// socket's; anything else is a pcb the table already let go of, handled the way lwIP
// would without callbacks. While a callback runs, inLwip_ makes close()/abort() wait for
// flush(), so nothing here frees a pcb lwIP is still using.
extern "C" {
#include <lwip/priv/tcp_priv.h>
}

#include <vector>

#include "tap/socket_table.h"
#include "tap/socket_table_internal.h"

namespace zts::tap {
namespace {

class InLwip {
 public:
  explicit InLwip(int& depth) : depth_(depth) { ++depth_; }
  ~InLwip() { --depth_; }
  InLwip(const InLwip&) = delete;
  InLwip& operator=(const InLwip&) = delete;

 private:
  int& depth_;
};

}  // namespace

err_t SocketTable::Lwip::connected(void* arg, tcp_pcb* pcb, err_t) {
  SocketTable* t = instance_;
  Socket* s = t != nullptr ? t->find(argHandle(arg)) : nullptr;
  if (s == nullptr || s->tcp != pcb) {
    tcp_abort(pcb);  // nobody wants this connection any more
    return ERR_ABRT;
  }
  InLwip scope(t->inLwip_);
  const SocketHandle h = s->handle;
  s->connecting = false;
  s->deadline = 0;
  s->armMs = 0;
  s->local = fromLwip(&pcb->local_ip, pcb->local_port);
  if (!s->userClosed) t->events_.onConnect(h, ERR_OK);
  s = t->find(h);
  if (s != nullptr && s->tcp != nullptr) {
    // Writes made while connecting, and a shutdown or close waiting for them.
    t->pushQueue(*s);
    t->afterPush(*s);
  }
  return ERR_OK;
}

err_t SocketTable::Lwip::accept(void* arg, tcp_pcb* pcb, err_t err) {
  SocketTable* t = instance_;
  // lwIP aborts the new pcb when we return an error (its error callback is not set yet).
  if (t == nullptr || err != ERR_OK || pcb == nullptr) return ERR_VAL;
  const SocketHandle listener = argHandle(arg);
  const Socket* l = t->live(listener);
  if (l == nullptr || l->kind != Kind::kListener) return ERR_VAL;
  InLwip scope(t->inLwip_);
  Socket& s = t->add(Kind::kTcp);
  t->attachTcp(s, pcb);
  s.local = fromLwip(&pcb->local_ip, pcb->local_port);
  s.remote = fromLwip(&pcb->remote_ip, pcb->remote_port);
  const SocketHandle h = s.handle;
  const IpEndpoint remote = s.remote;
  t->events_.onAccept(listener, h, remote);
  return ERR_OK;
}

err_t SocketTable::Lwip::recv(void* arg, tcp_pcb* pcb, pbuf* p, err_t err) {
  SocketTable* t = instance_;
  Socket* s = t != nullptr ? t->find(argHandle(arg)) : nullptr;
  if (s == nullptr || s->tcp != pcb) return tcp_recv_null(nullptr, pcb, p, err);
  InLwip scope(t->inLwip_);
  t->handleRecv(*s, p);
  return ERR_OK;
}

err_t SocketTable::Lwip::sent(void* arg, tcp_pcb* pcb, u16_t) {
  SocketTable* t = instance_;
  Socket* s = t != nullptr ? t->find(argHandle(arg)) : nullptr;
  if (s == nullptr || s->tcp != pcb) return ERR_OK;
  InLwip scope(t->inLwip_);
  t->pushQueue(*s);
  t->afterPush(*s);
  return ERR_OK;
}

// Every 2 s: retries a push that tcp_write refused for a full segment queue (no sent
// callback may be coming if nothing was in flight).
err_t SocketTable::Lwip::poll(void* arg, tcp_pcb* pcb) {
  return sent(arg, pcb, 0);
}

void SocketTable::Lwip::error(void* arg, err_t err) {
  SocketTable* t = instance_;
  Socket* s = t != nullptr ? t->find(argHandle(arg)) : nullptr;
  if (s == nullptr) return;
  InLwip scope(t->inLwip_);
  const SocketHandle h = s->handle;
  s->tcp = nullptr;  // lwIP has freed it already
  const bool silent = s->userClosed;
  const bool connecting = s->connecting;
  // Forget the handle before the event, so that calls on it from the handler see ERR_ARG.
  t->erase(h);
  if (silent) return;
  if (connecting)
    t->events_.onConnect(h, err);
  else
    t->events_.onClose(h, err);
}

void SocketTable::Lwip::datagram(void* arg, udp_pcb* pcb, pbuf* p, const ip_addr_t* addr,
                                 u16_t port) {
  SocketTable* t = instance_;
  Socket* s = t != nullptr ? t->live(argHandle(arg)) : nullptr;
  if (s == nullptr || s->udp != pcb) {
    pbuf_free(p);
    return;
  }
  InLwip scope(t->inLwip_);
  const SocketHandle h = s->handle;
  const IpEndpoint from = fromLwip(addr, port);
  t->withBytes(p,
               [&](const uint8_t* data, size_t len) { t->events_.onDatagram(h, from, data, len); });
  pbuf_free(p);
}

// --- The receive side ---

void SocketTable::handleRecv(Socket& s, pbuf* p) {
  const SocketHandle h = s.handle;
  if (p == nullptr) {
    s.finReceived = true;
    // Both directions are done: the pcb may already be in TIME_WAIT, which lwIP frees on
    // its own timer without telling us. Let go of it now.
    if (s.finSent && s.tcp != nullptr) releasePcb(s);
    if (s.userClosed) return;
    if (s.paused || !s.held.empty()) {
      s.endHeld = true;
      return;
    }
    deliverEnd(h);
    return;
  }
  s.unconsumed += p->tot_len;
  if (s.userClosed) {
    // Closing: nobody reads any more, but keep the window open until the FIN goes out.
    acknowledge(s, p->tot_len);
    pbuf_free(p);
    return;
  }
  if (s.paused || !s.held.empty()) {
    s.held.push_back(p);
    return;
  }
  deliverChain(h, p);
  pbuf_free(p);
}

void SocketTable::deliverHeld(SocketHandle h) {
  for (;;) {
    Socket* s = live(h);
    if (s == nullptr || s->paused) return;
    if (s->held.empty()) break;
    pbuf* p = s->held.front();
    s->held.pop_front();
    deliverChain(h, p);
    pbuf_free(p);
  }
  Socket* s = live(h);
  if (s != nullptr && s->endHeld) {
    s->endHeld = false;
    deliverEnd(h);
  }
}

void SocketTable::deliverChain(SocketHandle h, pbuf* p) {
  withBytes(p, [&](const uint8_t* data, size_t len) { events_.onData(h, data, len); });
}

void SocketTable::deliverEnd(SocketHandle h) {
  events_.onEnd(h);
}

}  // namespace zts::tap
