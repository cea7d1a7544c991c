// Dead peers over two lwIP stacks (lwip_pair.h: the peer is a forked child): the dead-peer
// timeout fails a connection with bytes in flight to a silent peer, but not one whose peer
// only closed its window; keep-alive fails an idle connection to a silent peer, but not to
// a live one; and retransmitNow() makes a peer that came back without the connection
// reset it at once, instead of at the next backed-off retransmission.
#include "lwip_pair.h"

extern "C" {
#include <lwip/err.h>
}

namespace zts::test {
namespace {

using tap::IpEndpoint;
using H = tap::SocketHandle;

// Signals from the parent to the child's server.
constexpr int kGoSilent = 1;
constexpr int kComeBack = 2;

void expectChildOk(int result) {
  EXPECT_EQ(result, 0) << "child failed at line " << result;
}

// The child's side: accepts on `port` and reads (unless `pause`); on kGoSilent drops all
// frames both ways (first forgetting the connection, as a restarted process would, if
// `forget`); on kComeBack is heard again.
int runServer(Node& node, uint16_t port, bool forget = false, bool pause = false) {
  auto& t = node.table();
  H l = 0, h = 0;
  node.events.accept = [&](H, H nh, const IpEndpoint&) {
    h = nh;
    if (pause) t.pause(nh);
  };
  node.events.data = [&](H hh, const uint8_t*, size_t n) { t.consumed(hh, n); };
  CHILD_CHECK(t.tcpListen(IpEndpoint{0, {}, port}, 8, &l) == ERR_OK);
  CHILD_CHECK(node.runUntil([&] { return node.peerResult == kGoSilent; }, 20000));
  node.dropIncoming = true;
  node.dropOutgoing = true;
  if (forget && h != 0) t.abort(h);  // its reset is dropped: the peer knows nothing
  CHILD_CHECK(node.runUntil([&] { return node.peerResult == kComeBack; }, 30000));
  node.dropIncoming = false;
  node.dropOutgoing = false;
  return 0;
}

// Connects to the child and writes up to `bytes`; returns the handle once connected.
H connectAndWrite(Node& node, uint16_t port, size_t bytes) {
  auto& t = node.table();
  const std::vector<uint8_t> data(bytes, 0x5a);
  H h = 0;
  int connectErr = 1;
  node.events.connect = [&](H, int err) { connectErr = err; };
  EXPECT_EQ(t.tcpConnect(kChild.v4(port), {}, &h), ERR_OK);
  EXPECT_TRUE(node.runUntil([&] { return connectErr != 1; }, 5000));
  EXPECT_EQ(connectErr, ERR_OK);
  // All of it, or as much as lwIP's buffer and the table's queue hold.
  EXPECT_GT(t.write(h, data.data(), data.size()), 0);
  node.runFor(300);
  return h;
}

TEST(SocketLiveness, DeadPeerTimeoutFailsAConnectionWithBytesInFlight) {
  const uint16_t port = 7101;
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        int closeErr = 1;
        node.events.close = [&](H, int err) { closeErr = err; };
        const H h = connectAndWrite(node, port, 64 * 1024);
        EXPECT_EQ(t.setDeadPeerTimeout(h, 1500), ERR_OK);
        node.runFor(2000);  // nothing in flight, the peer answering: no verdict
        EXPECT_EQ(closeErr, 1);
        node.signal(kGoSilent);
        node.runFor(100);
        const uint64_t start = monotonicMs();
        const uint8_t more[1024] = {};
        t.write(h, more, sizeof more);
        ASSERT_TRUE(node.runUntil([&] { return closeErr != 1; }, 10000));
        const uint64_t ms = monotonicMs() - start;
        EXPECT_EQ(closeErr, ERR_TIMEOUT);  // -> ETIMEDOUT
        EXPECT_GE(ms, 1400u);
        EXPECT_LT(ms, 5000u);
        EXPECT_EQ(t.size(), 0u);
        std::printf("[ figures  ] dead-peer timeout 1500 ms: failed after %llu ms\n",
                    static_cast<unsigned long long>(ms));
        node.signal(kComeBack);
      },
      [&](Node& node) { return runServer(node, port); }));
}

TEST(SocketLiveness, AReaderThatClosedItsWindowIsNotADeadPeer) {
  const uint16_t port = 7102;
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        int closes = 0;
        node.events.close = [&](H, int) { ++closes; };
        // More than the child's 2 MiB window: the rest waits for a window that never opens.
        const H h = connectAndWrite(node, port, 3 << 20);
        EXPECT_EQ(t.setDeadPeerTimeout(h, 1000), ERR_OK);
        node.runFor(6000);  // zero-window probes, answered, spaced out beyond 1 s
        EXPECT_EQ(closes, 0);
        EXPECT_EQ(t.size(), 1u);
        // The same, silent: two unanswered probes and a second of silence end it.
        node.signal(kGoSilent);
        ASSERT_TRUE(node.runUntil([&] { return closes > 0; }, 20000));
        EXPECT_EQ(t.size(), 0u);
        node.signal(kComeBack);
      },
      [&](Node& node) { return runServer(node, port, false, true); }));
}

TEST(SocketLiveness, KeepAliveFailsAnIdleConnectionOnlyWhenThePeerIsSilent) {
  const uint16_t port = 7103;
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        int closeErr = 1;
        node.events.close = [&](H, int err) { closeErr = err; };
        const H h = connectAndWrite(node, port, 16);
        // Silent for idle + 3 x interval = 1.1 s: over.
        EXPECT_EQ(t.setKeepAlive(h, true, 500, 200, 3), ERR_OK);
        node.runFor(2500);  // probes answered: no verdict
        EXPECT_EQ(closeErr, 1);
        node.signal(kGoSilent);
        const uint64_t start = monotonicMs();
        ASSERT_TRUE(node.runUntil([&] { return closeErr != 1; }, 10000));
        const uint64_t ms = monotonicMs() - start;
        EXPECT_EQ(closeErr, ERR_TIMEOUT);
        EXPECT_LT(ms, 4000u);
        std::printf(
            "[ figures  ] keep-alive 500 ms + 3 x 200 ms: failed %llu ms into the silence\n",
            static_cast<unsigned long long>(ms));
        node.signal(kComeBack);
      },
      [&](Node& node) { return runServer(node, port); }));
}

TEST(SocketLiveness, RetransmitNowLetsAPeerThatForgotTheConnectionResetItAtOnce) {
  const uint16_t port = 7104;
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        int closeErr = 1;
        node.events.close = [&](H, int err) { closeErr = err; };
        const H h = connectAndWrite(node, port, 16);
        node.signal(kGoSilent);
        node.runFor(100);
        const uint8_t more[1024] = {};
        t.write(h, more, sizeof more);
        node.runFor(50);
        // Two retransmissions go unanswered; the next is backed off further still.
        const uint64_t silentFrom = monotonicMs();
        for (int i = 0; i < 2; ++i) {
          const size_t before = node.framesOut;
          ASSERT_TRUE(node.runUntil([&] { return node.framesOut > before; }, 20000));
        }
        // The table counts the silence from its liveness checks (every 100 ms) once the
        // write is outstanding: the peer shows as silent for 2 s within 2.0-2.3 s of it. (A
        // fixed wait of 2.1 s was too close: it failed on a loaded CI machine.)
        ASSERT_TRUE(node.runUntil([&] { return t.silentPeers(2000).size() == 1; }, 3000))
            << "not silent 3 s after the write";
        const uint64_t silentAfter = monotonicMs() - silentFrom;
        EXPECT_GE(silentAfter, 1900u) << "silent before its time";
        std::printf("[ figures  ] silent peer reported %llu ms into the silence\n",
                    static_cast<unsigned long long>(silentAfter));
        EXPECT_EQ(t.silentPeers(2000)[0], kChild.v4(0));
        // Back without the connection, and lwIP's next retransmission seconds away.
        node.signal(kComeBack);
        node.runFor(200);
        ASSERT_EQ(closeErr, 1);
        const uint64_t start = monotonicMs();
        EXPECT_EQ(t.retransmitNow(kChild.v4(0)), 1u);
        ASSERT_TRUE(node.runUntil([&] { return closeErr != 1; }, 10000));
        const uint64_t ms = monotonicMs() - start;
        EXPECT_EQ(closeErr, ERR_RST);  // -> ECONNRESET
        EXPECT_LT(ms, 1000u);
        std::printf("[ figures  ] reset %llu ms after retransmitNow\n",
                    static_cast<unsigned long long>(ms));
      },
      [&](Node& node) { return runServer(node, port, true); }));
}

}  // namespace
}  // namespace zts::test
