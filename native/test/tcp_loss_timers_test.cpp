// The timers of our patched lwIP's loss recovery (native/engine/tap/lwip-port/patches 10, 11,
// 16) between two stacks (lwip_pair.h), 20 ms each way: a loss before any data was acked is
// resent after the handshake's round trip, not lwIP's initial timeout, also when the SYN was
// lost; a slow handshake does not set the timers for long; and a lost tail is repaired by a
// probe, not by a timeout's go-back-N.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

#include "tcp_transfer.h"

namespace zts::test {
namespace {

using namespace tcp_transfer;

// 1,000 bytes sent over a fresh connection whose first data segment is lost (and its first
// SYN too, if dropSyn), 20 ms each way: the milliseconds from the data's first copy to its
// second (nullopt: a copy never went, or the transfer failed, which the test reports).
std::optional<uint64_t> firstDataResentAfterMs(bool dropSyn) {
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
          if (dropSyn && (v->flags & 0x02) != 0 && !synDropped) {
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
  EXPECT_TRUE(ms.has_value()) << "no verdict from the receiver";
  EXPECT_EQ(synDropped, dropSyn);
  if (!ms || !firstSentMs || !resentMs) return std::nullopt;
  return *resentMs - *firstSentMs;
}

// The first data segment of a connection is lost (20 ms each way). lwIP measured no round
// trip before the first data was acknowledged, so it waited out its initial timeout (3 s);
// with the handshake's round trip (patch 10) the timeout is SRTT + 4 RTTVAR (at least 200
// ms) and the probe (patch 11) comes as soon: the data goes again within about 300 ms.
TEST(TcpLossRecovery, FirstDataLostIsResentAfterTheHandshakesRoundTrip) {
  const auto waited = firstDataResentAfterMs(false);
  ASSERT_TRUE(waited.has_value());
  std::printf("[ perf     ] first data segment lost: resent after %llu ms\n",
              static_cast<unsigned long long>(*waited));
  EXPECT_LT(*waited, 800u) << "the first data waited for the initial timeout";
}

// Ten full data segments over a fresh connection, 20 ms each way, the first copies of those
// at `lost` (indexes in sending order) dropped; the SYN delayed synDelayMs more, and the
// FIN's first copy dropped if dropFin (arriving after a lost tail, it would draw a duplicate
// ACK and fast retransmit would resend the tail at once, before any timer).
struct TenSegments {
  static constexpr size_t kSegments = 10;
  std::vector<uint32_t> newSeqs;    // each data segment's sequence number, in sending order
  std::vector<uint64_t> newSentMs;  // and when it first went
  std::vector<std::pair<uint32_t, uint64_t>> resent;  // sequence numbers sent again, and when
  std::optional<uint64_t> ms;                         // connect to the receiver's verdict
  size_t count(uint32_t seq) const {
    return static_cast<size_t>(std::count_if(resent.begin(), resent.end(),
                                             [seq](const auto& r) { return r.first == seq; }));
  }
};
TenSegments sendTenSegments(const std::vector<size_t>& lost, int synDelayMs, bool dropFin) {
  TenSegments t;
  bool finDropped = false;
  const int childResult = runPair(
      [&](Node& node) {
        node.delayMs = 20;
        SentData sent;
        node.dropFrame = [&](uint16_t type, const uint8_t* p, size_t n) {
          const auto v = tcpView(type, p, n);
          node.delayMs = v && (v->flags & 0x02) != 0 ? 20 + synDelayMs : 20;
          if (!v) return false;
          if (v->payload == 0) {
            const bool firstFin = dropFin && (v->flags & 0x01) != 0 && !finDropped;
            finDropped = finDropped || firstFin;
            return firstFin;
          }
          if (sent.isRetransmission(*v)) {
            t.resent.emplace_back(v->seq, monotonicMs());
            return false;
          }
          t.newSeqs.push_back(v->seq);
          t.newSentMs.push_back(monotonicMs());
          return std::find(lost.begin(), lost.end(), t.newSeqs.size() - 1) != lost.end();
        };
        t.ms = sendAll(node, TenSegments::kSegments * 2760, 20000);
      },
      [&](Node& node) {
        node.delayMs = 20;
        return receiveAll(node, TenSegments::kSegments * 2760, 20000);
      },
      {}, 30000);
  EXPECT_EQ(childResult, 0) << "child failed at line " << childResult;
  EXPECT_TRUE(t.ms.has_value()) << "no verdict from the receiver";
  EXPECT_EQ(t.newSeqs.size(), TenSegments::kSegments) << "segments were not full-sized";
  return t;
}

// The tail of a transfer: of its last three data segments the first two are lost, the
// third arrives and is SACKed (20 ms each way). Too few duplicate ACKs for fast
// retransmit; lwIP waited for the timeout, which forgets the scoreboard and resends the
// SACKed segment too (go-back-N, from one segment). The tail-loss probe (patch 11) resends
// the two holes two round trips after the last send: the SACKed segment never goes again.
TEST(TcpLossRecovery, TailLossProbeResendsTheHolesNotWhatWasSacked) {
  const TenSegments t = sendTenSegments({7, 8}, 0, false);
  ASSERT_TRUE(t.ms.has_value());
  ASSERT_EQ(t.newSeqs.size(), TenSegments::kSegments);
  EXPECT_EQ(t.count(t.newSeqs[9]), 0u)
      << "the SACKed last segment was sent again (a timeout's go-back-N)";
  EXPECT_GE(t.count(t.newSeqs[7]), 1u);
  EXPECT_GE(t.count(t.newSeqs[8]), 1u);
  std::printf("[ perf     ] two of the last three segments lost: %zu resent, %llu ms in all\n",
              t.resent.size(), static_cast<unsigned long long>(*t.ms));
}

// The same after a lost SYN (the first SYN and the first data segment dropped). Karn's rule
// took no round trip from a handshake whose SYN went twice: the data waited for the initial
// one-second timeout. The round trip from the last SYN sent (patch 16) serves instead.
TEST(TcpLossRecovery, FirstDataLostAfterALostSynIsResentAfterTheHandshakesRoundTrip) {
  const auto waited = firstDataResentAfterMs(true);
  ASSERT_TRUE(waited.has_value());
  std::printf("[ perf     ] SYN and first data segment lost: data resent after %llu ms\n",
              static_cast<unsigned long long>(*waited));
  EXPECT_LT(*waited, 800u) << "the first data waited for the initial timeout";
}

// A handshake held up: the SYN takes 700 ms more to cross (as when it waits for an address to
// be resolved; less than the SYN's 1 s timeout), the data 20 ms. The handshake's round
// trip (760 ms) is provisional (patch 16): the first round trip on data replaces it.
// Averaged in instead (RFC 6298's eighth per sample), it kept SRTT near a second for many
// round trips, and the probe and the timeout with it: the last two of ten segments lost (no
// SACK, no duplicate ACK: the probe's case) were resent after 1,110-1,144 ms (141-163 ms with it).
TEST(TcpLossRecovery, AHandshakeHeldUpDoesNotSlowTheRecoveryAfterIt) {
  const TenSegments t = sendTenSegments({8, 9}, 700, true);
  ASSERT_TRUE(t.ms.has_value());
  ASSERT_EQ(t.newSeqs.size(), TenSegments::kSegments);
  const auto again = std::find_if(t.resent.begin(), t.resent.end(),
                                  [&](const auto& r) { return r.first == t.newSeqs[8]; });
  ASSERT_NE(again, t.resent.end()) << "the lost segment never went again";
  const uint64_t waited = again->second - t.newSentMs[8];
  std::printf("[ perf     ] handshake held up 700 ms, then a tail lost: resent after %llu ms\n",
              static_cast<unsigned long long>(waited));
  EXPECT_LT(waited, 600u) << "the handshake's slow round trip still set the timers";
}

}  // namespace
}  // namespace zts::test
