// Two ends of a connection that both stop reading (lwip_pair.h: the peer is a forked
// child): each window closes at exactly zero and the wire goes quiet but for the
// occasional zero-window probe. Unpatched lwIP 2.1.3 answered every ACK that arrived on a
// window of exactly zero with an ACK (patches/01-zero-window-ack-loop.patch), so the two
// ends traded ACKs as fast as the wire carried them; over loopback that never left
// netif_poll().
#include "lwip_pair.h"

extern "C" {
#include <lwip/err.h>
#include <lwip/opt.h>
}

namespace zts::test {
namespace {

using tap::IpEndpoint;
using H = tap::SocketHandle;

constexpr size_t kBytes = 3 << 20;  // more than the window: both windows close
constexpr int kDone = 1;
// Windows are announced in steps of 64 bytes (window scale 6). With segments of a whole
// number of steps (MSS = MTU - 40 = 2560) every announced edge is the real one, so each
// sender fills the other's window to exactly zero; with 2760-byte segments a few bytes
// stay open and only probes, seconds apart, close them.
constexpr unsigned kMtu = 2600;

// One end: writes kBytes as the send buffer takes them and reads none of what arrives.
struct End {
  tap::SocketTable& table;
  H h = 0;
  size_t written = 0;
  size_t received = 0;
  std::vector<uint8_t> data = std::vector<uint8_t>(kBytes, 0x3c);

  void push() {
    while (h != 0 && written < kBytes) {
      const auto n = table.write(h, data.data() + written, kBytes - written);
      if (n <= 0) return;
      written += static_cast<size_t>(n);
    }
  }
  bool windowClosed() const { return received == TCP_WND; }
};

TEST(TcpZeroWindow, TwoClosedWindowsLeaveTheWireQuiet) {
  const uint16_t port = 7105;
  const int result = runPair(
      [&](Node& node) {
        auto& t = node.table();
        End e{t};
        int connectErr = 1;
        node.events.connect = [&](H, int err) { connectErr = err; };
        node.events.data = [&](H, const uint8_t*, size_t n) { e.received += n; };
        node.events.writable = [&](H) { e.push(); };
        ASSERT_EQ(t.tcpConnect(kChild.v4(port), {}, &e.h), ERR_OK);
        ASSERT_TRUE(node.runUntil([&] { return connectErr != 1; }, 5000));
        ASSERT_EQ(connectErr, ERR_OK);
        e.push();
        ASSERT_TRUE(node.runUntil([&] { return e.windowClosed(); }, 20000))
            << "received " << e.received;
        node.runFor(1000);  // the child's window closes too; probes start
        const size_t before = node.framesOut;
        node.runFor(2000);
        const size_t frames = node.framesOut - before;
        std::printf("[ figures  ] two zero windows: %zu frames out in 2 s\n", frames);
        EXPECT_LT(frames, 60u);   // probes and their answers only
        EXPECT_EQ(t.size(), 1u);  // and the connection is still there
        node.signal(kDone);
      },
      [&](Node& node) {
        auto& t = node.table();
        End e{t};
        H l = 0;
        node.events.accept = [&](H, H nh, const IpEndpoint&) {
          e.h = nh;
          e.push();
        };
        node.events.data = [&](H, const uint8_t*, size_t n) { e.received += n; };
        node.events.writable = [&](H) { e.push(); };
        CHILD_CHECK(t.tcpListen(IpEndpoint{0, {}, port}, 8, &l) == ERR_OK);
        CHILD_CHECK(node.runUntil([&] { return node.peerResult == kDone; }, 40000));
        CHILD_CHECK(e.windowClosed());
        return 0;
      },
      {}, 60000, kMtu);
  EXPECT_EQ(result, 0) << "child failed at line " << result;
}

}  // namespace
}  // namespace zts::test
