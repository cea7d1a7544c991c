// TCP and UDP sockets over lwIP's raw API, by integer handle, for the engine thread.
//
// lwIP here runs without its tcpip thread (ethernet_tap.h), so everything below runs on
// the one engine thread, and lwIP is process-global: there is at most one SocketTable
// per process (the constructor throws otherwise); its lwIP callbacks find it through a
// static pointer and find sockets by handle, never by pointer, so a late callback for a
// socket the table has forgotten finds nothing instead of freed memory.
//
// Return values are lwIP err_t values (ERR_OK = 0, negatives from lwip/err.h); the TS
// layer turns them into errno names with lib/errors.ts. Unknown (or closed) handles give
// ERR_ARG, an operation the socket's kind does not have gives ERR_VAL.
//
// Events (SocketEvents) are delivered synchronously, mostly from inside lwIP (while the
// engine feeds it a frame or runs its timers). The rules:
//  - A handle from tcpConnect gets exactly one onConnect. ERR_OK: connected. Anything
//    else: the connect failed and the handle is already gone (no onClose follows):
//      ERR_RST      the peer answered the SYN with a reset (refused -> ECONNREFUSED)
//      ERR_TIMEOUT  the connect timeout given to tcpConnect expired (-> ETIMEDOUT)
//      ERR_ABRT     lwIP gave up retrying the SYN, or the local address went away
//                   (lib/errors.ts maps connect + ERR_ABRT to ETIMEDOUT)
//  - A connected or accepted handle gets onData/onEnd/onWritable, and onClose(err) if
//    the connection is lost: ERR_RST (reset by the peer), ERR_TIMEOUT (the peer went
//    silent: see "Dead peers" below), ERR_ABRT (the local address went away). The handle
//    is gone after onClose. An orderly end (our FIN sent by shutdownWrite, theirs seen as
//    onEnd) gives no event: the handle stays until close().
//  - After close() or abort() the handle gets no further events, even from inside the
//    callback that is running.
//
// Re-entrancy: handlers may call any method except the destructor. close() and abort()
// called from a handler running inside lwIP take effect on lwIP at the next flush() or
// tick(), because lwIP may be iterating its pcb lists or still using the pcb (a close
// inside a receive callback could also reset a connection whose window lwIP has not yet
// handed to us). The handle goes silent at once either way.
//
// Dead peers. A connection with bytes in flight (sent and unacknowledged, or waiting for
// the peer's window) fails with ERR_TIMEOUT once the peer has not been heard from for its
// dead-peer timeout (SocketTableOptions, or per socket), counted from the later of the
// peer's last segment and the moment the bytes became outstanding: a peer that answers
// (even zero-window probes) is alive. With keep-alive on, an idle connection fails with
// ERR_TIMEOUT once the peer is silent for idle + count x interval. Both are decided here,
// on tick(), rather than by lwIP, whose own give-up after TCP_MAXRTX retransmissions
// (4.5 to 19 minutes) the table holds off; ERR_ABRT remains for lwIP's other reasons.
//
// The engine's duties: call flush() after each batch of frames it fed the tap and each
// batch of commands (writes are queued into lwIP but sent by flush(), one tcp_output per
// socket per batch), and tick(nowMs) regularly (connect timeouts, close lingering).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "tap/socket_address.h"

struct tcp_pcb;
struct udp_pcb;
struct pbuf;

namespace zts::tap {

using SocketHandle = uint32_t;

class SocketEvents {
 public:
  virtual ~SocketEvents() = default;
  virtual void onConnect(SocketHandle h, int err) = 0;
  virtual void onAccept(SocketHandle listener, SocketHandle h, const IpEndpoint& remote) = 0;
  // Bytes from the peer, one call per lwIP pbuf chain; `data` is valid during the call
  // only. Every byte must later be acknowledged with consumed(): until then it counts
  // against the receive window (that is the backpressure).
  virtual void onData(SocketHandle h, const uint8_t* data, size_t len) = 0;
  // The peer's FIN, after all its data.
  virtual void onEnd(SocketHandle h) = 0;
  // The send queue fell to the writable mark after a write() took less than offered.
  virtual void onWritable(SocketHandle h) = 0;
  virtual void onClose(SocketHandle h, int err) = 0;
  virtual void onDatagram(SocketHandle h, const IpEndpoint& from, const uint8_t* data,
                          size_t len) = 0;
};

struct SocketTableOptions {
  // Bytes a TCP socket queues beyond lwIP's own send buffer (TCP_SND_BUF, lwipopts.h).
  size_t sendQueueBytes = 256 * 1024;
  // onWritable fires when the queue drains to this many bytes (after a short write).
  size_t writableMark = 64 * 1024;
  // How long close() keeps pushing queued bytes before it gives up and resets.
  uint32_t closeLingerMs = 30000;
  // How long a peer may stay silent while bytes to it are outstanding (see above).
  uint32_t deadPeerTimeoutMs = 60000;
};

struct ConnectOptions {
  uint16_t localPort = 0;  // 0: ephemeral
  // 0: lwIP's own SYN retries only: a fixed 3 s RTO in SYN_SENT, 6 retries, then
  // ERR_ABRT after about 18 s (Linux takes about 2 minutes).
  uint32_t timeoutMs = 0;
};

class SocketTable {
 public:
  explicit SocketTable(SocketEvents& events, SocketTableOptions options = {});
  // Resets every open connection (RST) and frees every pcb, without events. Destroy the
  // table before the taps whose addresses its sockets use.
  ~SocketTable();
  SocketTable(const SocketTable&) = delete;
  SocketTable& operator=(const SocketTable&) = delete;

  // --- TCP ---
  // Starts a connect; the outcome arrives as onConnect. Synchronous errors: ERR_VAL (no
  // address, multicast or broadcast), ERR_RST (127/8 or ::1: the host's loopback, where
  // nothing of the network listens; our own ZeroTier addresses work), ERR_RTE (no
  // network routes there), ERR_USE (local port taken), ERR_MEM.
  int tcpConnect(const IpEndpoint& remote, const ConnectOptions& options, SocketHandle* out);
  // Listens on `local` (len 0: both families; port 0: ephemeral, see localAddress). Sets
  // SO_REUSEADDR like libuv does for servers. lwIP is built without a listen backlog, so
  // every connection is accepted at once and `backlog` only documents intent.
  int tcpListen(const IpEndpoint& local, int backlog, SocketHandle* out);
  // Queues bytes for sending: as much as lwIP's send buffer takes, the rest into the
  // socket's queue up to sendQueueBytes. Returns the count taken (<= len; when less,
  // onWritable follows once the queue drains), or a negative err_t: ERR_CLSD after
  // shutdownWrite or once the connection is gone. Writes before the connect completes
  // are queued. Sent on the next flush().
  int64_t write(SocketHandle h, const uint8_t* data, size_t len);
  // Half-close: FIN after everything queued has gone to lwIP. Reading goes on.
  int shutdownWrite(SocketHandle h);
  // Graceful close: queued bytes are still sent (for up to closeLingerMs), then FIN.
  // Unconsumed received bytes are acknowledged first so lwIP does not reset instead.
  // Also closes listeners and UDP sockets.
  int close(SocketHandle h);
  // Reset (RST) and forget, for TCP; same as close() for listeners and UDP.
  int abort(SocketHandle h);
  // Stops onData/onEnd; lwIP keeps receiving until the window fills, and the table holds
  // those pbufs. resume() delivers what was held, synchronously, then carries on.
  int pause(SocketHandle h);
  int resume(SocketHandle h);
  // The consumer took n bytes delivered by onData: reopen the receive window by n.
  int consumed(SocketHandle h, size_t n);
  int setNoDelay(SocketHandle h, bool noDelay);
  // 0 for idle/interval/count keeps lwIP's default (2 h, 75 s, 9).
  int setKeepAlive(SocketHandle h, bool enable, uint32_t idleMs = 0, uint32_t intervalMs = 0,
                   uint32_t count = 0);
  // This socket's dead-peer timeout (0: back to the table's).
  int setDeadPeerTimeout(SocketHandle h, uint32_t ms);
  // Remote endpoints of connections with outstanding bytes whose peer has been silent for
  // at least silentMs (as of the last tick()): peers worth asking whether they are back.
  std::vector<IpEndpoint> silentPeers(uint32_t silentMs) const;
  // The peer at `remote` (its address; the port is ignored) answered again: connections to
  // it retransmit at lwIP's next TCP tick instead of waiting out a backed-off timer, so a
  // peer that came back without the connection resets it now. Returns how many.
  size_t retransmitNow(const IpEndpoint& remote);
  // Bytes waiting in the table's queue (not counting lwIP's own send buffer).
  size_t queuedBytes(SocketHandle h) const;

  // --- UDP ---
  int udpBind(const IpEndpoint& local, SocketHandle* out);
  // One datagram. ERR_RTE for 127/8 or ::1 (as tcpConnect), ERR_VAL for a size over 65507 bytes or
  // a family the socket lacks.
  int udpSendTo(SocketHandle h, const IpEndpoint& to, const uint8_t* data, size_t len);
  // Joins (or leaves) an IPv4 (IGMP) or IPv6 (MLD) group on every network interface.
  // lwIP counts joins, so each join needs its leave; ERR_VAL for a non-multicast address.
  int udpMembership(const IpEndpoint& group, bool join);

  // --- Both ---
  int localAddress(SocketHandle h, IpEndpoint* out) const;
  int remoteAddress(SocketHandle h, IpEndpoint* out) const;
  // Sockets held, including closed ones still sending their queue (close()).
  size_t size() const { return sockets_.size(); }

  // Runs close()/abort() deferred from inside lwIP, then sends what writes queued.
  void flush();
  // Connect timeouts and close lingering; then flush().
  void tick(uint64_t nowMs);

 private:
  struct Socket;
  struct Lwip;  // lwIP's callbacks (socket_table_callbacks.cpp)
  enum class Kind : uint8_t { kTcp, kListener, kUdp };
  enum class Op : uint8_t { kNone, kClose, kAbort };

  Socket* find(SocketHandle h) const;
  // Live for the caller: known and not closed by the user.
  Socket* live(SocketHandle h) const;
  SocketHandle allocateHandle();
  Socket& add(Kind kind);
  void attachTcp(Socket& s, struct tcp_pcb* pcb);

  size_t pushToLwip(Socket& s, const uint8_t* data, size_t len);
  void pushQueue(Socket& s);
  void afterPush(Socket& s);
  void sendFin(Socket& s);
  void markDirty(Socket& s);
  void armTimer(Socket& s, uint32_t ms);
  void acknowledge(Socket& s, size_t n);
  // Fails connections whose peer went silent (dead-peer timeout, keep-alive).
  void checkLiveness();
  void failSilent(SocketHandle h);

  void handleRecv(Socket& s, struct pbuf* p);
  void deliverHeld(SocketHandle h);
  void deliverChain(SocketHandle h, struct pbuf* p);
  void deliverEnd(SocketHandle h);
  // Calls f(data, len) with a pbuf chain's bytes in one span (socket_table_internal.h).
  template <typename F>
  void withBytes(struct pbuf* p, F&& f);

  void requestClose(Socket& s, Op op);
  void closeNow(SocketHandle h);
  void abortNow(SocketHandle h);
  // Gives the pcb back to lwIP for an orderly end and forgets it.
  void releasePcb(Socket& s);
  void erase(SocketHandle h);

  static SocketTable* instance_;
  SocketEvents& events_;
  SocketTableOptions options_;
  std::unordered_map<SocketHandle, std::unique_ptr<Socket>> sockets_;
  std::vector<SocketHandle> dirty_;
  std::vector<SocketHandle> deferred_;
  std::vector<SocketHandle> timed_;  // sockets with a deadline, for tick()
  int inLwip_ = 0;                   // depth of lwIP callbacks being handled
  uint64_t now_ = 0;
  uint64_t lastLivenessCheck_ = 0;
  std::vector<uint8_t> scratch_;
  bool scratchBusy_ = false;
};

}  // namespace zts::tap
