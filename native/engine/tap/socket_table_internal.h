// What SocketTable keeps per socket; shared by socket_table.cpp (the API) and
// socket_table_callbacks.cpp (lwIP's callbacks). Not part of the engine's interface.
#pragma once

extern "C" {
#include <lwip/pbuf.h>
#include <lwip/tcp.h>
#include <lwip/udp.h>
}

#include <cstdint>
#include <deque>
#include <vector>

#include "tap/byte_queue.h"
#include "tap/socket_table.h"

namespace zts::tap {

struct SocketTable::Socket {
  SocketHandle handle = 0;
  Kind kind = Kind::kTcp;
  // The pcb while the table owns it; null once lwIP freed it (error callback) or the
  // table gave it back to lwIP for an orderly end.
  struct tcp_pcb* tcp = nullptr;
  struct udp_pcb* udp = nullptr;
  IpEndpoint local, remote;

  bool connecting = false;
  ByteQueue queue;  // bytes lwIP's send buffer had no room for yet
  bool wantWritable = false;
  bool shutdownRequested = false;
  bool finSent = false;

  size_t unconsumed = 0;          // delivered or held, not yet given back with tcp_recved
  std::deque<struct pbuf*> held;  // received while paused
  bool paused = false;
  bool endHeld = false;  // the FIN came while data was held
  bool finReceived = false;

  bool userClosed = false;  // no more events; the table finishes the close
  Op op = Op::kNone;
  bool dirty = false;     // awaits tcp_output in flush()
  uint64_t deadline = 0;  // connect timeout or close linger, in tick() time; 0: none
  uint32_t armMs = 0;     // a deadline to set at the next tick() (time not known yet)
  bool timed = false;     // listed in timed_

  uint32_t deadPeerMs = 0;        // 0: the table's
  uint64_t outstandingSince = 0;  // when bytes in flight began, in tick() time; 0: none
  uint64_t silentMs = 0;          // the peer's silence, as of the last liveness check
  bool keepAlive = false;
  uint64_t keepAliveLimitMs = 0;  // idle + count x interval: silence that ends it

  ~Socket() {
    for (auto* p : held) pbuf_free(p);
  }
};

// lwIP's callbacks. Each finds the table through instance_ and the socket by the handle
// stored as the pcb's arg, and counts itself in inLwip_ while it runs.
struct SocketTable::Lwip {
  static err_t connected(void* arg, struct tcp_pcb* pcb, err_t err);
  static err_t accept(void* arg, struct tcp_pcb* pcb, err_t err);
  static err_t recv(void* arg, struct tcp_pcb* pcb, struct pbuf* p, err_t err);
  static err_t sent(void* arg, struct tcp_pcb* pcb, u16_t len);
  static err_t poll(void* arg, struct tcp_pcb* pcb);
  static void error(void* arg, err_t err);
  static void datagram(void* arg, struct udp_pcb* pcb, struct pbuf* p, const ip_addr_t* addr,
                       u16_t port);
};

// A single pbuf (one segment, the usual case) is handed out as it is; a chain is copied
// once into scratch_, or into a local buffer when a handler's call nests inside another
// delivery that is still using scratch_.
template <typename F>
void SocketTable::withBytes(struct pbuf* p, F&& f) {
  if (p->next == nullptr) {
    f(static_cast<const uint8_t*>(p->payload), static_cast<size_t>(p->len));
    return;
  }
  std::vector<uint8_t> local;
  std::vector<uint8_t>& buf = scratchBusy_ ? local : scratch_;
  buf.resize(p->tot_len);
  pbuf_copy_partial(p, buf.data(), p->tot_len, 0);
  const bool wasBusy = scratchBusy_;
  scratchBusy_ = true;
  f(static_cast<const uint8_t*>(buf.data()), buf.size());
  scratchBusy_ = wasBusy;
}

inline void* handleArg(SocketHandle h) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>(h));
}
inline SocketHandle argHandle(void* arg) {
  return static_cast<SocketHandle>(reinterpret_cast<uintptr_t>(arg));
}

}  // namespace zts::tap
