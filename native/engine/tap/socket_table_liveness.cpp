// The SocketTable's liveness: TCP keep-alive with Node's timings, the dead-peer timeout
// (a connection whose peer stays silent with bytes in flight fails with ETIMEDOUT), and
// what PeerReturnWatch needs (silent peers, retransmit now). Split from socket_table.cpp.
#include "socket_table.h"

extern "C" {
#include <lwip/priv/tcp_priv.h>
}

#include <algorithm>
#include <cstring>

#include "tap/socket_table_internal.h"

namespace zts::tap {
namespace {

// lwIP's own keep-alive give-up comes this many intervals after ours, as a backstop.
constexpr uint32_t kLwipKeepAliveSpare = 2;
// lwIP gives up after TCP_MAXRTX (at most 12) retransmissions or unanswered zero-window
// probes: 4.5 to 19 minutes, by the RTO, which would cut a longer dead-peer timeout short.
// Held this far below it, lwIP keeps retransmitting (at its longest backoff: the backoff
// table ends before 10) until the table decides. Two below: a late engine may run two of
// lwIP's slow ticks at once, and a retransmission is always more than a tick away.
constexpr u8_t kRetriesHeld = TCP_MAXRTX - 2;

}  // namespace

int SocketTable::setKeepAlive(SocketHandle h, bool enable, uint32_t idleMs, uint32_t intervalMs,
                              uint32_t count) {
  Socket* s = live(h);
  if (s == nullptr) return ERR_ARG;
  if (s->kind != Kind::kTcp) return ERR_VAL;
  if (s->tcp == nullptr) return ERR_CLSD;
  s->keepAlive = enable;
  if (!enable) {
    ip_reset_option(s->tcp, SOF_KEEPALIVE);
    return ERR_OK;
  }
  ip_set_option(s->tcp, SOF_KEEPALIVE);
  const uint32_t idle = idleMs != 0 ? idleMs : TCP_KEEPIDLE_DEFAULT;
  const uint32_t interval = intervalMs != 0 ? intervalMs : TCP_KEEPINTVL_DEFAULT;
  const uint32_t probes = count != 0 ? count : TCP_KEEPCNT_DEFAULT;
  s->keepAliveLimitMs = uint64_t{idle} + uint64_t{probes} * interval;
  // lwIP sends the probes; checkLiveness() decides when the silence is fatal (ETIMEDOUT,
  // where lwIP's own verdict would read ERR_ABRT).
  s->tcp->keep_idle = idle;
  s->tcp->keep_intvl = interval;
  s->tcp->keep_cnt = probes + kLwipKeepAliveSpare;
  return ERR_OK;
}

int SocketTable::setDeadPeerTimeout(SocketHandle h, uint32_t ms) {
  Socket* s = live(h);
  if (s == nullptr) return ERR_ARG;
  if (s->kind != Kind::kTcp) return ERR_VAL;
  s->deadPeerMs = ms;
  return ERR_OK;
}

std::vector<IpEndpoint> SocketTable::silentPeers(uint32_t silentMs) const {
  std::vector<IpEndpoint> out;
  for (const auto& [h, s] : sockets_) {
    if (s->tcp == nullptr || s->outstandingSince == 0 || s->silentMs < silentMs) continue;
    IpEndpoint peer = s->remote;
    peer.port = 0;
    if (std::find(out.begin(), out.end(), peer) == out.end()) out.push_back(peer);
  }
  return out;
}

size_t SocketTable::retransmitNow(const IpEndpoint& remote) {
  size_t n = 0;
  for (auto& [h, s] : sockets_) {
    tcp_pcb* pcb = s->tcp;
    if (s->kind != Kind::kTcp || pcb == nullptr || s->connecting) continue;
    if (s->remote.len != remote.len || std::memcmp(s->remote.ip, remote.ip, remote.len) != 0)
      continue;
    // The retransmission timer is running (rtime >= 0) while segments are unacknowledged;
    // at its deadline lwIP's next slow tick retransmits (and backs off as usual).
    if (pcb->unacked == nullptr || pcb->rtime < 0) continue;
    pcb->rtime = pcb->rto;
    ++n;
  }
  return n;
}

void SocketTable::checkLiveness() {
  std::vector<SocketHandle> dead;
  for (auto& [h, s] : sockets_) {
    tcp_pcb* pcb = s->tcp;
    if (s->kind != Kind::kTcp || pcb == nullptr || s->connecting) continue;
    // lwIP stamps pcb->tmr with its tick count whenever a segment arrives.
    const uint64_t heardAgo = uint64_t{tcp_ticks - pcb->tmr} * TCP_SLOW_INTERVAL;
    const bool outstanding = pcb->unacked != nullptr || pcb->unsent != nullptr || !s->queue.empty();
    if (!outstanding) {
      s->outstandingSince = 0;
      s->silentMs = 0;
    } else {
      if (s->outstandingSince == 0) s->outstandingSince = now_;
      s->silentMs = std::min(heardAgo, now_ - s->outstandingSince);
    }
    pcb->nrtx = std::min(pcb->nrtx, kRetriesHeld);
    pcb->persist_probe = std::min(pcb->persist_probe, kRetriesHeld);
    const uint32_t limit = s->deadPeerMs != 0 ? s->deadPeerMs : options_.deadPeerTimeoutMs;
    const bool keepAliveDue = s->keepAlive &&
                              (pcb->state == ESTABLISHED || pcb->state == CLOSE_WAIT) &&
                              heardAgo >= s->keepAliveLimitMs;
    // Waiting on a zero window, the peer is asked by probes lwIP spaces out up to 12 s
    // apart: only two unanswered in a row (an answer resets the count) say it is gone.
    const bool probesUnanswered = pcb->persist_backoff == 0 || pcb->persist_probe >= 2;
    if ((outstanding && s->silentMs >= limit && probesUnanswered) || keepAliveDue)
      dead.push_back(h);
  }
  for (SocketHandle h : dead) failSilent(h);
}

void SocketTable::failSilent(SocketHandle h) {
  Socket* s = find(h);
  if (s == nullptr) return;
  const bool quiet = s->userClosed;
  abortNow(h);  // a reset, for a peer that is there after all but cannot be heard
  if (!quiet) events_.onClose(h, ERR_TIMEOUT);
}

}  // namespace zts::tap
