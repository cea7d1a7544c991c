// What the TCP loss tests share (tcp_loss_recovery_test.cpp, tcp_loss_timers_test.cpp): a
// pattern to send and check, a view of the TCP fields of a frame, a watch on retransmissions,
// the two ends of a transfer over lwip_pair.h's two stacks, and random impairments.
#pragma once

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "lwip_pair.h"

extern "C" {
#include <lwip/err.h>
}

namespace zts::test::tcp_transfer {

using tap::IpEndpoint;
using H = tap::SocketHandle;

constexpr uint16_t kPort = 7100;
constexpr size_t kMiB = 1 << 20;

inline uint8_t patternByte(size_t i) {
  return static_cast<uint8_t>((i * 2654435761u) >> 13);
}

// The TCP fields a test watches in an IPv4 frame's payload (nullopt for anything else).
struct TcpView {
  uint32_t seq, ack;
  size_t payload;
  uint8_t flags;  // FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10
};
inline std::optional<TcpView> tcpView(uint16_t type, const uint8_t* p, size_t n) {
  if (type != 0x0800 || n < 20 || p[9] != 6) return std::nullopt;
  const size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
  const size_t total = (static_cast<size_t>(p[2]) << 8) | p[3];
  if (ihl < 20 || total > n || total < ihl + 20) return std::nullopt;
  const uint8_t* t = p + ihl;
  const size_t doff = static_cast<size_t>(t[12] >> 4) * 4;
  if (doff < 20 || ihl + doff > total) return std::nullopt;
  auto be32 = [](const uint8_t* b) {
    return (static_cast<uint32_t>(b[0]) << 24) | (static_cast<uint32_t>(b[1]) << 16) |
           (static_cast<uint32_t>(b[2]) << 8) | b[3];
  };
  return TcpView{be32(t + 4), be32(t + 8), total - ihl - doff, t[13]};
}
inline bool seqBefore(uint32_t a, uint32_t b) {
  return static_cast<int32_t>(a - b) < 0;
}

// Watches the data segments a side sends: a segment that starts below the highest end sent
// so far is a retransmission.
struct SentData {
  uint32_t highest = 0;
  bool any = false;
  bool isRetransmission(const TcpView& v) {
    const uint32_t end = v.seq + static_cast<uint32_t>(v.payload);
    const bool again = any && seqBefore(v.seq, highest);
    if (!any || seqBefore(highest, end)) highest = end;
    any = true;
    return again;
  }
};

// The child: accepts one connection, checks every byte against the pattern, and reports
// 0 once `bytes` arrived intact and the sender's FIN followed.
inline int receiveAll(Node& node, size_t bytes, int timeoutMs) {
  auto& t = node.table();
  H listener = 0, conn = 0;
  size_t received = 0;
  bool intact = true, ended = false;
  node.events.accept = [&](H, H h, const IpEndpoint&) { conn = h; };
  node.events.data = [&](H h, const uint8_t* d, size_t n) {
    for (size_t i = 0; i < n; ++i) intact = intact && d[i] == patternByte(received + i);
    received += n;
    t.consumed(h, n);
  };
  node.events.end = [&](H) { ended = true; };
  CHILD_CHECK(t.tcpListen(kChild.v4(kPort), 4, &listener) == ERR_OK);
  CHILD_CHECK(node.runUntil([&] { return ended; }, timeoutMs));
  CHILD_CHECK(intact);
  CHILD_CHECK(received == bytes);
  t.close(conn);
  t.close(listener);
  return 0;
}

// The parent: connects, sends `bytes` of the pattern, half-closes, and waits for the
// child's verdict. Returns the milliseconds from connect to verdict (nullopt: none came).
inline std::optional<uint64_t> sendAll(Node& node, size_t bytes, int timeoutMs) {
  auto& t = node.table();
  H h = 0;
  size_t sent = 0;
  bool connected = false, shut = false;
  std::vector<uint8_t> chunk(64 * 1024);
  auto push = [&] {
    while (connected && sent < bytes) {
      const size_t n = std::min(chunk.size(), bytes - sent);
      for (size_t i = 0; i < n; ++i) chunk[i] = patternByte(sent + i);
      const int64_t r = t.write(h, chunk.data(), n);
      if (r <= 0) return;
      sent += static_cast<size_t>(r);
    }
    if (connected && !shut) {
      shut = true;
      t.shutdownWrite(h);
    }
  };
  node.events.connect = [&](H, int err) {
    connected = err == ERR_OK;
    push();
  };
  node.events.writable = [&](H) { push(); };
  node.runFor(100);  // the child's listener is up
  const uint64_t start = monotonicMs();
  if (t.tcpConnect(kChild.v4(kPort), {}, &h) != ERR_OK) return std::nullopt;
  if (!node.runUntil([&] { return node.peerResult.has_value(); }, timeoutMs)) return std::nullopt;
  const uint64_t ms = monotonicMs() - start;
  t.close(h);
  return ms;
}

// Random loss of `loss` on every frame, each way, and `delayMs` each way.
inline void impair(Node& node, double loss, int delayMs, uint32_t seed) {
  auto rng = std::make_shared<std::mt19937>(seed);
  node.delayMs = delayMs;
  node.dropFrame = [rng, loss](uint16_t, const uint8_t*, size_t) {
    return std::uniform_real_distribution<double>(0, 1)(*rng) < loss;
  };
}

// Random loss of `loss` on every UDP datagram, each way, and `delayMs` each way. A frame
// larger than one datagram's payload crosses ZeroTier as two fragments (a 2,760-byte
// segment does), and is lost when either is.
inline void impairDatagrams(Node& node, double loss, int delayMs, uint32_t seed) {
  constexpr size_t kOneDatagram = 1380;
  auto rng = std::make_shared<std::mt19937>(seed);
  node.delayMs = delayMs;
  node.dropFrame = [rng, loss](uint16_t, const uint8_t*, size_t n) {
    const double frameLoss = n > kOneDatagram ? 1 - (1 - loss) * (1 - loss) : loss;
    return std::uniform_real_distribution<double>(0, 1)(*rng) < frameLoss;
  };
}

}  // namespace zts::test::tcp_transfer
