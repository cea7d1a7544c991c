// The peer's side of tcp_input_fuzz.cpp, and the stack it talks to: the constants of the
// connection, the frames the peer sends (IPv4 header and TCP checksum always valid, payload
// bytes a fixed function of their sequence number), the Conn that records what the peer
// sent and what the application wrote and got, the virtual clock, and the handshake every
// input starts from.
//
// lwIP is process-global, so the tap lives for the whole process; each input gets a fresh
// SocketTable and connection, and lwIP's history is wiped first: sys_now() and LWIP_RAND()
// are this file's (a virtual clock, a seeded generator; port.c is then not linked), the
// timers are run out and rebased to one start time, tcp_tmr's fast/slow phase, tcp_ticks,
// the initial sequence number (0xffff8000: the stream crosses 2^32) and the ARP cache are
// set the same way every time. Every pcb is gone at the end of an input.
//
// Included by tcp_input_fuzz.cpp alone (one translation unit), hence the unnamed namespace.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_support.h"
#include "tap/ethernet_tap.h"
#include "tap/socket_table.h"

extern "C" {
#include <lwip/etharp.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/sys.h>
#include <lwip/tcp.h>
#include <lwip/timeouts.h>
}

namespace {

using namespace zts;

constexpr uint32_t kStartMs = 0x10000000;  // far from 0 (a "not set" value) and from wrap
constexpr uint32_t kIss = 0xffff8000;      // the stack's: 32 KiB into the data, 2^32
constexpr uint32_t kPeerIss = 0x7ffffc00;  // the harness's: 1 KiB in, 2^31
constexpr uint32_t kTicks = 0x1000;        // tcp_ticks at the start
constexpr uint16_t kStackPort = 7000;
constexpr uint16_t kPeerPort = 40000;
constexpr uint16_t kPeerMss = 1000;
constexpr uint8_t kPeerShift = 6;
constexpr uint64_t kStackMac = 0x02bbbbbbbb02;
constexpr uint64_t kPeerMac = 0x02aaaaaaaa01;
constexpr uint8_t kStackIp[4] = {10, 147, 17, 2};
constexpr uint8_t kPeerIp[4] = {10, 147, 17, 1};
constexpr size_t kInitialWrite = 64 * 1024;
constexpr size_t kMaxPayload = 3000;
constexpr uint64_t kMaxVirtualMs = 600000;  // per input: time records beyond are skipped

uint32_t gNowMs = kStartMs;
uint32_t gRandom = 1;

uint8_t stackByte(uint64_t k) {  // byte k of what the application writes
  return static_cast<uint8_t>((k * 167) ^ (k >> 8) ^ (k >> 16));
}
uint8_t peerByte(uint32_t k) {  // the peer's byte at sequence number kPeerIss + 1 + k
  return static_cast<uint8_t>((k * 89) ^ (k >> 9) ^ 0x5a);
}

uint32_t get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

uint16_t checksum(uint32_t sum, const uint8_t* p, size_t n) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  if (n % 2 != 0) sum += uint32_t{p[n - 1]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

tcp_pcb* findPcb() {
  for (tcp_pcb* p = tcp_active_pcbs; p != nullptr; p = p->next)
    if (p->local_port == kStackPort && p->remote_port == kPeerPort) return p;
  return nullptr;
}

// One input's connection, as the peer sees it.
struct Conn : tap::SocketEvents {
  tap::SocketTable* table = nullptr;
  tap::SocketHandle listener = 0, handle = 0;
  bool closed = false;  // the handle is gone (closed by us or by the table)
  bool ignoreOutput = false;
  bool arpAsked = false;
  uint64_t written = 0;      // bytes the application wrote (taken by the table)
  uint32_t delivered = 0;    // bytes of the peer's stream the application got
  int64_t peerSentEnd = 0;   // furthest peer sequence (offset from kPeerIss + 1) sent
  bool peerSentFin = false;  // it sent a FIN somewhere
  uint64_t maxWindow = 0;    // largest window the peer advertised, scaled
  uint64_t virtualMs = 0;    // time advanced by time records
  bool sawSynAck = false;
  // Last values seen, while the pcb lives.
  tcp_pcb* pcb = nullptr;
  uint32_t lastack = kIss, sndNxt = kIss + 1, rcvNxt = kPeerIss + 1;

  void onConnect(tap::SocketHandle, int) override {}
  void onAccept(tap::SocketHandle, tap::SocketHandle h, const tap::IpEndpoint&) override {
    ZTS_FUZZ_CHECK(handle == 0);
    handle = h;
  }
  void onData(tap::SocketHandle h, const uint8_t* d, size_t n) override {
    for (size_t i = 0; i < n; ++i) ZTS_FUZZ_CHECK(d[i] == peerByte(delivered + uint32_t(i)));
    delivered += static_cast<uint32_t>(n);
    table->consumed(h, n);
  }
  void onEnd(tap::SocketHandle) override {}
  void onWritable(tap::SocketHandle) override {}
  void onClose(tap::SocketHandle, int) override { closed = true; }
  void onDatagram(tap::SocketHandle, const tap::IpEndpoint&, const uint8_t*, size_t) override {}

  void output(uint16_t type, const uint8_t* f, size_t n);
  void checkSegment(const uint8_t* t, size_t n);  // in tcp_input_checks.h
};

Conn* gConn = nullptr;
tap::EthernetTap* gTap = nullptr;

void Conn::output(uint16_t type, const uint8_t* f, size_t n) {
  if (ignoreOutput) return;
  if (type == 0x0806) {
    if (n >= 28 && f[7] == 1 && std::memcmp(f + 24, kPeerIp, 4) == 0) arpAsked = true;
    return;
  }
  if (type != 0x0800 || n < 20 || f[9] != 6) return;
  const size_t ihl = (f[0] & 15u) * 4u;
  const size_t total = std::min<size_t>(n, (size_t{f[2]} << 8) | f[3]);
  ZTS_FUZZ_CHECK(ihl >= 20 && total >= ihl + 20);
  checkSegment(f + ihl, total - ihl);
}

// The stack's frames go out from inside lwIP; the ARP answer goes in after.
void pump() {
  while (gConn->arpAsked) {
    gConn->arpAsked = false;
    uint8_t a[28] = {0, 1, 8, 0, 6, 4, 0, 2};
    for (int i = 0; i < 6; ++i) {
      a[8 + i] = static_cast<uint8_t>(kPeerMac >> (40 - 8 * i));
      a[18 + i] = static_cast<uint8_t>(kStackMac >> (40 - 8 * i));
    }
    std::memcpy(a + 14, kPeerIp, 4);
    std::memcpy(a + 24, kStackIp, 4);
    gTap->input(kStackMac, kPeerMac, 0x0806, a, sizeof a);
  }
  gTap->deliverDeferred();
  gTap->deliverLoopback();
}

// An IPv4 TCP segment from the peer: `tcp` is the header (ports, seq and ack already
// final), then `payload` more bytes. Whatever lwIP will take for data (from the data
// offset on, which may lie inside `tcp` or beyond it) is the peer's stream from `seq`;
// option space beyond `tcp` is zeros.
void sendSegment(std::vector<uint8_t> tcp, size_t payload, uint32_t seq) {
  const size_t hlen = tcp.size();
  const size_t doff = hlen >= 13 ? (tcp[12] >> 4) * 4u : 0;
  const size_t dataStart = doff >= 20 ? doff : hlen;  // else lwIP drops it anyway
  tcp.resize(hlen + payload, 0);
  if (tcp.size() >= 8) seq = get32(tcp.data() + 4);  // what lwIP reads, if hlen was short
  for (size_t o = std::max<size_t>(dataStart, 20); o < tcp.size(); ++o)
    tcp[o] = peerByte(seq + static_cast<uint32_t>(o - dataStart) - (kPeerIss + 1));
  const size_t dataLen = tcp.size() > dataStart ? tcp.size() - dataStart : 0;
  if (tcp.size() >= 18) {
    tcp[16] = tcp[17] = 0;
    uint32_t sum = 6 + static_cast<uint32_t>(tcp.size());
    sum += (uint32_t{kPeerIp[0]} << 8 | kPeerIp[1]) + (uint32_t{kPeerIp[2]} << 8 | kPeerIp[3]);
    sum += (uint32_t{kStackIp[0]} << 8 | kStackIp[1]) + (uint32_t{kStackIp[2]} << 8 | kStackIp[3]);
    put16(tcp.data() + 16, checksum(sum, tcp.data(), tcp.size()));
  }
  std::vector<uint8_t> ip(20 + tcp.size());
  ip[0] = 0x45;
  put16(ip.data() + 2, static_cast<uint16_t>(ip.size()));
  ip[8] = 64;
  ip[9] = 6;
  std::memcpy(ip.data() + 12, kPeerIp, 4);
  std::memcpy(ip.data() + 16, kStackIp, 4);
  put16(ip.data() + 10, checksum(0, ip.data(), 20));
  std::copy(tcp.begin(), tcp.end(), ip.begin() + 20);

  // What the stack may acknowledge, and the windows it may use (lwIP drops a segment
  // shorter than a header).
  if (tcp.size() >= 20) {
    const uint8_t flags = tcp[13];
    const int64_t end = int64_t{static_cast<int32_t>(seq - (kPeerIss + 1))} +
                        static_cast<int64_t>(dataLen) + ((flags & TCP_SYN) ? 1 : 0) +
                        ((flags & TCP_FIN) ? 1 : 0);
    gConn->peerSentEnd = std::max(gConn->peerSentEnd, end);
    if (flags & TCP_FIN) gConn->peerSentFin = true;
    const uint64_t wnd = (uint64_t{tcp[14]} << 8 | tcp[15]) << kPeerShift;
    gConn->maxWindow = std::max(gConn->maxWindow, wnd);
  }
  gTap->input(kStackMac, kPeerMac, 0x0800, ip.data(), ip.size());
  pump();
}

std::vector<uint8_t> header(uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
                            const uint8_t* opts, size_t optlen) {
  const size_t padded = (optlen + 3) & ~size_t{3};
  std::vector<uint8_t> h(20 + padded, 0);
  put16(h.data(), kPeerPort);
  put16(h.data() + 2, kStackPort);
  put32(h.data() + 4, seq);
  put32(h.data() + 8, ack);
  h[12] = static_cast<uint8_t>(((20 + padded) / 4) << 4);
  h[13] = flags;
  put16(h.data() + 14, wnd);
  if (optlen > 0) std::memcpy(h.data() + 20, opts, optlen);
  return h;
}

// The run of time: timers as they fall due, the table's tick after each.
void advance(uint32_t ms) {
  const uint32_t target = gNowMs + ms;
  while (gNowMs != target) {
    const uint32_t step =
        std::min(target - gNowMs, std::max<uint32_t>(sys_timeouts_sleeptime(), 1));
    gNowMs += step;
    sys_check_timeouts();
    pump();
    gConn->table->tick(gNowMs);
    pump();
  }
}

// The same lwIP state at the start of every input (see the top of the file).
void resetLwip() {
  etharp_cleanup_netif(gTap->netif());
  // No pcb is left: every timer fires once (the TCP timer then stops) and the cyclic ones
  // come due at now + interval; rebase them to the start time.
  gNowMs += 5000;
  sys_check_timeouts();
  gNowMs = kStartMs + 100;  // the first timer due: the 100 ms ones
  sys_restart_timeouts();
  gNowMs = kStartMs;
  // tcp_tmr runs tcp_slowtmr every other call, which counts tcp_ticks: leave the next
  // call a slow one.
  tcp_ticks = 0;
  tcp_tmr();
  if (tcp_ticks != 0) tcp_tmr();
  // tcp_next_iss adds tcp_ticks to its static: make the next one kIss.
  static tcp_pcb dummy;
  tcp_ticks = 0;
  const uint32_t now = tcp_next_iss(&dummy);
  tcp_ticks = kIss - kTicks - now;
  tcp_next_iss(&dummy);
  tcp_ticks = kTicks;
  gRandom = 1;
}

void cleanup() {
  gConn->ignoreOutput = true;
  delete gConn->table;
  gConn->table = nullptr;
  // Pcbs the table gave back to lwIP for an orderly end.
  while (tcp_active_pcbs != nullptr) tcp_abort(tcp_active_pcbs);
  while (tcp_tw_pcbs != nullptr) tcp_abort(tcp_tw_pcbs);
  ZTS_FUZZ_CHECK(tcp_listen_pcbs.listen_pcbs == nullptr);
  etharp_cleanup_netif(gTap->netif());
}

void writeMore(size_t n) {
  if (gConn->handle == 0 || gConn->closed) return;
  std::vector<uint8_t> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = stackByte(gConn->written + i);
  const int64_t took = gConn->table->write(gConn->handle, d.data(), n);
  if (took > 0) gConn->written += static_cast<uint64_t>(took);
}

// The handshake: the peer's SYN (MSS, SACK permitted, window scale), the stack's SYN|ACK
// after an ARP exchange, 20 ms, the peer's ACK; then the listener closes and 64 KiB go.
bool establish() {
  ZTS_FUZZ_CHECK(gConn->table->tcpListen(tap::IpEndpoint::v4(kStackIp, kStackPort), 1,
                                         &gConn->listener) == ERR_OK);
  const uint8_t synOpts[12] = {2, 4, kPeerMss >> 8, kPeerMss & 0xff, 1, 3, 3, kPeerShift, 4, 2,
                               1, 1};
  sendSegment(header(kPeerIss, 0, TCP_SYN, 0xffff, synOpts, sizeof synOpts), 0, kPeerIss);
  gConn->table->flush();
  pump();
  ZTS_FUZZ_CHECK(gConn->sawSynAck);
  advance(20);
  sendSegment(header(kPeerIss + 1, kIss + 1, TCP_ACK, 0xffff, nullptr, 0), 0, kPeerIss + 1);
  ZTS_FUZZ_CHECK(gConn->handle != 0);
  gConn->table->close(gConn->listener);
  writeMore(kInitialWrite);
  gConn->table->flush();
  pump();
  const tcp_pcb* p = findPcb();
  ZTS_FUZZ_CHECK(p != nullptr && p->state == ESTABLISHED && (p->flags & TF_SACK) &&
                 p->unacked != nullptr && p->mss == kPeerMss);
  return true;
}

}  // namespace

extern "C" {
// lwIP's platform (lwip-port/port.c, which this replaces here): the virtual clock and a
// generator seeded per input.
u32_t sys_now(void) {
  return gNowMs;
}
unsigned int zts_lwip_random(void) {
  gRandom = gRandom * 1103515245u + 12345u;
  return gRandom >> 8;
}
}
