// The timers of our patched lwIP's loss recovery (native/engine/tap/lwip-port/patches 10, 11,
// 16) between two stacks (lwip_pair.h), 20 ms each way: a loss before any data was acked is
// resent after the handshake's round trip, not lwIP's initial timeout, also when the SYN was
// lost; a slow handshake does not set the timers for long; and a lost tail is repaired by a
// probe, not by a timeout's go-back-N.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

#include "tcp_transfer.h"

namespace zts::test {
namespace {

using namespace tcp_transfer;

// The first data segment of a connection is lost (20 ms each way). lwIP measured no round
// trip before the first data was acknowledged, so it waited out its initial timeout (3 s);
// with the handshake's round trip (patch 10) the timeout is SRTT + 4 RTTVAR (at least 200
// ms) and the probe (patch 11) comes as soon: the data goes again within about 300 ms.
TEST(TcpLossRecovery, FirstDataLostIsResentAfterTheHandshakesRoundTrip) {
  constexpr size_t kBytes = 1000;
  std::optional<uint64_t> firstSentMs, resentMs;
  std::optional<uint64_t> ms;
  const int childResult = runPair(
      [&](Node& node) {
        node.delayMs = 20;
        node.dropFrame = [&](uint16_t type, const uint8_t* p, size_t n) {
          const auto v = tcpView(type, p, n);
          if (!v || v->payload == 0) return false;
          if (!firstSentMs) {
            firstSentMs = monotonicMs();
            return true;
          }
          if (!resentMs) resentMs = monotonicMs();
          return false;
        };
        ms = sendAll(node, kBytes, 20000);
      },
      [&](Node& node) {
        node.delayMs = 20;
        return receiveAll(node, kBytes, 20000);
      },
      {}, 30000);
  EXPECT_EQ(childResult, 0) << "child failed at line " << childResult;
  ASSERT_TRUE(ms.has_value()) << "no verdict from the receiver";
  ASSERT_TRUE(firstSentMs && resentMs);
  const uint64_t waited = *resentMs - *firstSentMs;
  std::printf("[ perf     ] first data segment lost: resent after %llu ms\n",
              static_cast<unsigned long long>(waited));
  EXPECT_LT(waited, 800u) << "the first data waited for the initial timeout";
}

// The tail of a transfer: of its last three data segments the first two are lost, the
// third arrives and is SACKed (20 ms each way). Too few duplicate ACKs for fast
// retransmit; lwIP waited for the timeout, which forgets the scoreboard and resends the
// SACKed segment too (go-back-N, from one segment). The tail-loss probe (patch 11) resends
// the two holes two round trips after the last send: the SACKed segment never goes again.
TEST(TcpLossRecovery, TailLossProbeResendsTheHolesNotWhatWasSacked) {
  constexpr size_t kSegments = 10;
  constexpr size_t kBytes = kSegments * 2760;
  std::vector<uint32_t> newSeqs;  // each data segment's sequence number, in sending order
  std::vector<uint32_t> resent;   // sequence numbers sent again
  std::optional<uint64_t> ms;
  const int childResult = runPair(
      [&](Node& node) {
        node.delayMs = 20;
        SentData sent;
        node.dropFrame = [&](uint16_t type, const uint8_t* p, size_t n) {
          const auto v = tcpView(type, p, n);
          if (!v || v->payload == 0) return false;
          if (sent.isRetransmission(*v)) {
            resent.push_back(v->seq);
            return false;
          }
          newSeqs.push_back(v->seq);
          const size_t index = newSeqs.size() - 1;
          return index == kSegments - 3 || index == kSegments - 2;
        };
        ms = sendAll(node, kBytes, 20000);
      },
      [&](Node& node) {
        node.delayMs = 20;
        return receiveAll(node, kBytes, 20000);
      },
      {}, 30000);
  EXPECT_EQ(childResult, 0) << "child failed at line " << childResult;
  ASSERT_TRUE(ms.has_value()) << "no verdict from the receiver";
  ASSERT_EQ(newSeqs.size(), kSegments) << "segments were not full-sized";
  const uint32_t sacked = newSeqs[kSegments - 1];
  EXPECT_EQ(std::count(resent.begin(), resent.end(), sacked), 0)
      << "the SACKed last segment was sent again (a timeout's go-back-N)";
  EXPECT_GE(std::count(resent.begin(), resent.end(), newSeqs[kSegments - 3]), 1);
  EXPECT_GE(std::count(resent.begin(), resent.end(), newSeqs[kSegments - 2]), 1);
  std::printf("[ perf     ] two of the last three segments lost: %zu resent, %llu ms in all\n",
              resent.size(), static_cast<unsigned long long>(*ms));
}

// The same after a lost SYN (the first SYN and the first data segment dropped). Karn's rule
// took no round trip from a handshake whose SYN went twice: the data waited for the initial
// one-second timeout. The round trip from the last SYN sent (patch 16) serves instead.
TEST(TcpLossRecovery, FirstDataLostAfterALostSynIsResentAfterTheHandshakesRoundTrip) {
  constexpr size_t kBytes = 1000;
  bool synDropped = false;
  std::optional<uint64_t> firstSentMs, resentMs;
  std::optional<uint64_t> ms;
  const int childResult = runPair(
      [&](Node& node) {
        node.delayMs = 20;
        node.dropFrame = [&](uint16_t type, const uint8_t* p, size_t n) {
          const auto v = tcpView(type, p, n);
          if (!v) return false;
          if ((v->flags & 0x02) != 0 && !synDropped) {
            synDropped = true;
            return true;
          }
          if (v->payload == 0) return false;
          if (!firstSentMs) {
            firstSentMs = monotonicMs();
            return true;
          }
          if (!resentMs) resentMs = monotonicMs();
          return false;
        };
        ms = sendAll(node, kBytes, 20000);
      },
      [&](Node& node) {
        node.delayMs = 20;
        return receiveAll(node, kBytes, 20000);
      },
      {}, 30000);
  EXPECT_EQ(childResult, 0) << "child failed at line " << childResult;
  ASSERT_TRUE(ms.has_value()) << "no verdict from the receiver";
  ASSERT_TRUE(synDropped && firstSentMs && resentMs);
  const uint64_t waited = *resentMs - *firstSentMs;
  std::printf("[ perf     ] SYN and first data segment lost: data resent after %llu ms\n",
              static_cast<unsigned long long>(waited));
  EXPECT_LT(waited, 800u) << "the first data waited for the initial timeout";
}

// A handshake held up: the SYN takes 700 ms to cross (as when it waits for an address to be
// resolved; less than the SYN's 1 s timeout), the data then 20 ms. The handshake's round trip
// (740 ms) is provisional (patch 16): the first round trip on data replaces it. Averaged in instead
// (RFC 6298's eighth per sample), it kept SRTT near a second for many round trips, and the probe
// and the timeout with it: the last two of ten segments lost (no SACK, no duplicate ACK: the
// probe's case) were resent after 1,110 ms (163 ms with the patch).
TEST(TcpLossRecovery, AHandshakeHeldUpDoesNotSlowTheRecoveryAfterIt) {
  constexpr size_t kSegments = 10;
  constexpr size_t kBytes = kSegments * 2760;
  std::vector<uint32_t> newSeqs;
  std::vector<uint64_t> newSentMs;
  std::optional<uint64_t> resentMs;  // when the first lost segment went again
  bool finDropped = false;
  std::optional<uint64_t> ms;
  const int childResult = runPair(
      [&](Node& node) {
        node.delayMs = 20;
        SentData sent;
        node.dropFrame = [&](uint16_t type, const uint8_t* p, size_t n) {
          const auto v = tcpView(type, p, n);
          node.delayMs = v && (v->flags & 0x02) != 0 ? 700 : 20;
          if (!v) return false;
          if (v->payload == 0) {
            // the FIN's first copy too: arriving after the lost tail, it would draw a
            // duplicate ACK and fast retransmit would resend the tail at once
            const bool firstFin = (v->flags & 0x01) != 0 && !finDropped;
            finDropped = finDropped || firstFin;
            return firstFin;
          }
          if (sent.isRetransmission(*v)) {
            if (newSeqs.size() > kSegments - 2 && v->seq == newSeqs[kSegments - 2] && !resentMs)
              resentMs = monotonicMs();
            return false;
          }
          newSeqs.push_back(v->seq);
          newSentMs.push_back(monotonicMs());
          const size_t index = newSeqs.size() - 1;
          return index >= kSegments - 2;
        };
        ms = sendAll(node, kBytes, 20000);
      },
      [&](Node& node) {
        node.delayMs = 20;
        return receiveAll(node, kBytes, 20000);
      },
      {}, 30000);
  EXPECT_EQ(childResult, 0) << "child failed at line " << childResult;
  ASSERT_TRUE(ms.has_value()) << "no verdict from the receiver";
  ASSERT_EQ(newSeqs.size(), kSegments) << "segments were not full-sized";
  ASSERT_TRUE(resentMs.has_value());
  const uint64_t waited = *resentMs - newSentMs[kSegments - 2];
  std::printf("[ perf     ] handshake held up 700 ms, then a tail lost: resent after %llu ms\n",
              static_cast<unsigned long long>(waited));
  EXPECT_LT(waited, 600u) << "the handshake's slow round trip still set the timers";
}

}  // namespace
}  // namespace zts::test
