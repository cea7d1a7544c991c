// lwIP's TCP input (tcp_input, tcp_process, tcp_receive, tcp_parseopt) with our patches
// (native/engine/tap/lwip-port/patches: SACK scoreboard and recovery, tail-loss probe,
// round trips, zero-window probe...), driven as the engine drives it: an EthernetTap and a
// SocketTable, fed Ethernet frames and ticked. The harness plays the peer of one
// ESTABLISHED IPv4 connection with SACK, window scaling (peer shift 6) and MSS 1000
// negotiated both ways; the stack accepted it and has written 64 KiB, so segments are in
// flight when the input starts.
//
// Input: records, each an op byte (low 3 bits: the kind; bit 3 a modifier), until the
// input ends (missing bytes read as 0):
//   0, 5, 6, 7 segment: flags(1) seq(2) ack(2) window(2) optlen(1) options(optlen % 41)
//              payload(2). seq is a signed offset from the stack's rcv_nxt, ack one from
//              its lastack (snd_una), or from snd_nxt with bit 3; big endian. The edges of
//              SACK options (kind 5, any length) are offsets from lastack too; the options
//              are otherwise verbatim, padded with zeros to a multiple of 4.
//   1 time:    ms(2): the clock advances, timers and SocketTable::tick run on the way.
//   2 raw:     hlen(1) header(hlen % 61) payload(2): the TCP header as given (so any data
//              offset, any length, even under 20 bytes), except that the ports are the
//              connection's and seq, ack and SACK edges are offsets as above.
//   3 write:   n(2): the application writes n more bytes.
//   4 app:     what(1) % 4: shutdownWrite, close, pause, resume.
// Payload length is % 3001; its bytes are a fixed function of their sequence number, so
// whatever the stack delivers must be the peer's stream in order. The IPv4 header and the
// TCP checksum are always valid. After each record the stack's frames are answered (ARP)
// and SocketTable::flush() runs, as the engine does.
//
// The harness (the stack's reset, the connection, the frames, the clock) is in
// tcp_input_harness.h; what is checked beyond ASan/UBSan, on every record and every
// segment the stack sends, is in tcp_input_checks.h.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "fuzz_support.h"
#include "tcp_input_checks.h"
#include "tcp_input_harness.h"

namespace {

// The input, byte by byte; past its end, zeros.
struct Reader {
  const uint8_t* p;
  size_t n;
  bool more() const { return n > 0; }
  uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  uint16_t u16() {
    const uint16_t hi = byte();
    return static_cast<uint16_t>((hi << 8) | byte());
  }
};

// SACK edges in `opts` are offsets from `base`: make them sequence numbers. Walks the
// options as tcp_parseopt does; stops where a length is bad.
void rebaseSack(uint8_t* opts, size_t n, uint32_t base) {
  size_t i = 0;
  while (i < n) {
    const uint8_t kind = opts[i];
    if (kind == 0) return;
    if (kind == 1) {
      ++i;
      continue;
    }
    if (i + 1 >= n || opts[i + 1] < 2) return;
    const size_t end = std::min(n, i + opts[i + 1]);
    if (kind == 5)
      for (size_t j = i + 2; j + 4 <= end; j += 4) put32(opts + j, get32(opts + j) + base);
    i = end;
  }
}

void segmentRecord(Reader& r, uint8_t op) {
  const uint8_t flags = r.byte();
  const auto seqOff = static_cast<int16_t>(r.u16());
  const auto ackOff = static_cast<int16_t>(r.u16());
  const uint16_t wnd = r.u16();
  uint8_t opts[40];
  const size_t optlen = r.byte() % 41;
  for (size_t i = 0; i < optlen; ++i) opts[i] = r.byte();
  const size_t payload = r.u16() % (kMaxPayload + 1);
  const uint32_t seq = gConn->rcvNxt + static_cast<uint32_t>(int32_t{seqOff});
  const uint32_t ack =
      ((op & 8) ? gConn->sndNxt : gConn->lastack) + static_cast<uint32_t>(int32_t{ackOff});
  rebaseSack(opts, optlen, gConn->lastack);
  sendSegment(header(seq, ack, flags, wnd, opts, optlen), payload, seq);
}

void rawRecord(Reader& r, uint8_t op) {
  const size_t hlen = r.byte() % 61;
  std::vector<uint8_t> h(hlen);
  for (auto& b : h) b = r.byte();
  const size_t payload = r.u16() % (kMaxPayload + 1);
  uint8_t ports[4];
  put16(ports, kPeerPort);
  put16(ports + 2, kStackPort);
  for (size_t i = 0; i < std::min<size_t>(hlen, 4); ++i) h[i] = ports[i];
  uint32_t seq = gConn->rcvNxt;
  if (hlen >= 8) {
    seq += get32(h.data() + 4);
    put32(h.data() + 4, seq);
  }
  if (hlen >= 12)
    put32(h.data() + 8, get32(h.data() + 8) + ((op & 8) ? gConn->sndNxt : gConn->lastack));
  if (hlen > 20) rebaseSack(h.data() + 20, hlen - 20, gConn->lastack);
  sendSegment(std::move(h), payload, seq);
}

void appRecord(Reader& r) {
  const uint8_t what = r.byte() % 4;
  if (gConn->handle == 0 || gConn->closed) return;
  switch (what) {
    case 0:
      gConn->table->shutdownWrite(gConn->handle);
      break;
    case 1:
      gConn->table->close(gConn->handle);
      gConn->closed = true;
      break;
    case 2:
      gConn->table->pause(gConn->handle);
      break;
    case 3:
      gConn->table->resume(gConn->handle);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tap::EthernetTap* tap = [] {
    auto* t = new tap::EthernetTap(
        kStackMac, 1500, [](uint64_t, uint64_t, uint16_t type, const uint8_t* p, size_t n) {
          if (gConn != nullptr) gConn->output(type, p, n);
        });
    t->setIpv4(kStackIp, 24);
    return t;
  }();
  gTap = tap;
  resetLwip();
  Conn conn;
  gConn = &conn;
  conn.table = new tap::SocketTable(conn);
  establish();
  checkPcb();  // the first values of lastack, snd_nxt and rcv_nxt to compare with

  Reader r{data, size};
  while (r.more()) {
    const uint8_t op = r.byte();
    switch (op & 7) {
      case 1: {
        const uint16_t ms = r.u16();
        if (conn.virtualMs + ms <= kMaxVirtualMs) {
          conn.virtualMs += ms;
          advance(ms);
        }
        break;
      }
      case 2:
        rawRecord(r, op);
        break;
      case 3:
        writeMore(r.u16());
        break;
      case 4:
        appRecord(r);
        break;
      default:
        segmentRecord(r, op);
        break;
    }
    conn.table->flush();
    pump();
    checkPcb();
  }
  cleanup();
  gConn = nullptr;
  return 0;
}
