// ARP's retries in our patched lwIP (native/engine/tap/lwip-port/patches 20) between two
// stacks (lwip_pair.h), 20 ms each way: a connect whose first ARP requests are lost waits a
// quarter second for each, not a second.
#include <cstdio>
#include <optional>
#include <vector>

#include "tcp_transfer.h"

namespace zts::test {
namespace {

using namespace tcp_transfer;

constexpr uint16_t kEtherTypeArp = 0x0806;

// The sender's first `lost` ARP requests are dropped; returns the milliseconds from its
// first request to its first SYN on the wire (nullopt: the transfer failed).
std::optional<uint64_t> synAfterLostArpMs(size_t lost, std::vector<uint64_t>& requestsMs) {
  std::optional<uint64_t> synMs;
  std::optional<uint64_t> ms;
  const int childResult = runPair(
      [&](Node& node) {
        node.delayMs = 20;
        node.dropFrame = [&](uint16_t type, const uint8_t* p, size_t n) {
          if (type == kEtherTypeArp && n >= 8 && p[6] == 0 && p[7] == 1) {
            requestsMs.push_back(monotonicMs());
            return requestsMs.size() <= lost;
          }
          const auto v = tcpView(type, p, n);
          if (v && (v->flags & 0x02) != 0 && !synMs) synMs = monotonicMs();
          return false;
        };
        ms = sendAll(node, 1000, 20000);
      },
      [&](Node& node) {
        node.delayMs = 20;
        return receiveAll(node, 1000, 20000);
      },
      {}, 30000);
  EXPECT_EQ(childResult, 0) << "child failed at line " << childResult;
  if (!ms || !synMs || requestsMs.empty()) return std::nullopt;
  return *synMs - requestsMs.front();
}

// The first two ARP requests for the receiver are lost. lwIP asked again on its one-second
// tick only: the SYN left 1-2 s after the first request. Asking again every quarter second
// in the request's first second (patch 20), the third request goes within about 500 ms.
TEST(ArpRetry, LostRequestsAreRepeatedWithinAQuarterSecond) {
  std::vector<uint64_t> requestsMs;
  const auto waited = synAfterLostArpMs(2, requestsMs);
  ASSERT_TRUE(waited.has_value());
  std::printf("[ figures  ] two ARP requests lost: the SYN left %llu ms after the first\n",
              static_cast<unsigned long long>(*waited));
  ASSERT_GE(requestsMs.size(), 3u);
  EXPECT_LT(*waited, 800u) << "the lost requests waited for ARP's one-second tick";
  EXPECT_LE(requestsMs[2] - requestsMs[1], 300u);
}

}  // namespace
}  // namespace zts::test
