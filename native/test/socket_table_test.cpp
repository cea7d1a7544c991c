// SocketTable between two lwIP stacks (lwip_pair.h: the peer is a forked child): TCP echo
// over IPv4 and IPv6 with throughput printed, half-close, refused connects, resets,
// backpressure, many connections, UDP, connects to our own address, connect timeouts and
// graceful close with queued data.
#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "lwip_pair.h"

extern "C" {
#include <lwip/err.h>
#include <lwip/opt.h>
}

namespace zts::test {
namespace {

using tap::IpEndpoint;
using tap::SocketHandle;
using H = SocketHandle;

constexpr size_t kMiB = 1 << 20;

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; i += 4) {
    const uint32_t r = rng();
    std::memcpy(v.data() + i, &r, std::min<size_t>(4, n - i));
  }
  return v;
}

// Echoes every accepted connection. Bytes write() does not take wait in `backlog` and
// reading pauses until they are gone; the echo half-closes after the peer's FIN.
struct EchoServer {
  Node& node;
  tap::SocketTable& t;
  std::map<H, std::vector<uint8_t>> backlog;
  std::set<H> ended;
  int finished = 0;
  int errors = 0;
  H listener = 0;

  explicit EchoServer(Node& n) : node(n), t(n.table()) {}

  int listen(const IpEndpoint& local) {
    node.events.accept = [this](H, H h, const IpEndpoint&) { backlog[h]; };
    node.events.data = [this](H h, const uint8_t* d, size_t n) { onData(h, d, n); };
    node.events.writable = [this](H h) { drain(h); };
    node.events.end = [this](H h) {
      ended.insert(h);
      finishIfDone(h);
    };
    node.events.close = [this](H h, int) {
      ++errors;
      backlog.erase(h);
    };
    return t.tcpListen(local, 64, &listener);
  }

  void onData(H h, const uint8_t* d, size_t n) {
    auto& b = backlog[h];
    size_t taken = 0;
    if (b.empty()) {
      const int64_t r = t.write(h, d, n);
      if (r > 0) taken = static_cast<size_t>(r);
    }
    b.insert(b.end(), d + taken, d + n);
    t.consumed(h, n);  // copied (into the table or the backlog)
    if (!b.empty()) t.pause(h);
  }

  void drain(H h) {
    auto it = backlog.find(h);
    if (it == backlog.end()) return;
    auto& b = it->second;
    if (!b.empty()) {
      const int64_t r = t.write(h, b.data(), b.size());
      if (r > 0) b.erase(b.begin(), b.begin() + r);
    }
    if (!b.empty()) return;
    t.resume(h);  // may deliver held data and the FIN, re-entering onData and onEnd
    finishIfDone(h);
  }

  void finishIfDone(H h) {
    auto it = backlog.find(h);
    if (it == backlog.end() || !it->second.empty() || ended.count(h) == 0) return;
    t.shutdownWrite(h);
    t.close(h);
    backlog.erase(it);
    ended.erase(h);
    ++finished;
  }
};

// Sends `data` on a connection, checks that the same bytes come back, and half-closes
// once everything was written.
struct EchoClient {
  tap::SocketTable& t;
  const std::vector<uint8_t>& data;
  H h = 0;
  size_t sent = 0, received = 0;
  int connectErr = 1, closeErr = 1;
  bool shut = false, ended = false, mismatch = false;
  int shortWrites = 0;

  void pushMore() {
    while (sent < data.size()) {
      const size_t n = std::min<size_t>(64 * 1024, data.size() - sent);
      const int64_t r = t.write(h, data.data() + sent, n);
      if (r >= 0 && static_cast<size_t>(r) < n) ++shortWrites;
      if (r <= 0) return;
      sent += static_cast<size_t>(r);
      if (static_cast<size_t>(r) < n) return;  // onWritable follows
    }
    if (!shut) {
      shut = true;
      t.shutdownWrite(h);
    }
  }
  void onData(const uint8_t* d, size_t n) {
    if (received + n > data.size() || std::memcmp(d, data.data() + received, n) != 0)
      mismatch = true;
    received += n;
    t.consumed(h, n);
  }
  bool done() const { return ended || closeErr != 1 || connectErr > 1 || connectErr < 0; }
};

bool sameIp(const IpEndpoint& e, const Station& st, bool ipv6) {
  return ipv6 ? e.len == 16 && std::memcmp(e.ip, st.ip6, 16) == 0
              : e.len == 4 && std::memcmp(e.ip, st.ip4, 4) == 0;
}

void expectChildOk(int result) {
  EXPECT_EQ(result, 0) << "child failed at line " << result;
}

void echoOneMiB(bool ipv6) {
  const uint16_t port = 7001;
  const int childResult = runPair(
      [&](Node& node) {
        auto& t = node.table();
        const auto data = pattern(kMiB, 1);
        EchoClient c{t, data};
        node.events.connect = [&](H, int err) {
          c.connectErr = err;
          if (err == ERR_OK) c.pushMore();
        };
        node.events.writable = [&](H) { c.pushMore(); };
        node.events.data = [&](H, const uint8_t* d, size_t n) { c.onData(d, n); };
        node.events.end = [&](H) { c.ended = true; };
        node.events.close = [&](H, int err) { c.closeErr = err; };

        const uint64_t start = monotonicMs();
        const IpEndpoint server = ipv6 ? kChild.v6(port) : kChild.v4(port);
        ASSERT_EQ(t.tcpConnect(server, {}, &c.h), ERR_OK);
        EXPECT_EQ(t.setNoDelay(c.h, true), ERR_OK);
        EXPECT_EQ(t.setKeepAlive(c.h, true, 10000), ERR_OK);
        ASSERT_TRUE(node.runUntil([&] { return c.done(); }, 30000)) << "received " << c.received;
        const uint64_t ms = std::max<uint64_t>(1, monotonicMs() - start);
        EXPECT_EQ(c.connectErr, ERR_OK);
        EXPECT_TRUE(c.ended);
        EXPECT_EQ(c.closeErr, 1) << "unexpected onClose";
        EXPECT_EQ(c.received, data.size());
        EXPECT_FALSE(c.mismatch) << "echoed bytes differ";

        IpEndpoint local, remote;
        ASSERT_EQ(t.localAddress(c.h, &local), ERR_OK);
        ASSERT_EQ(t.remoteAddress(c.h, &remote), ERR_OK);
        EXPECT_TRUE(sameIp(local, kParent, ipv6));
        EXPECT_NE(local.port, 0);
        EXPECT_EQ(remote, server);
        EXPECT_EQ(t.close(c.h), ERR_OK);
        EXPECT_EQ(t.write(c.h, data.data(), 1), ERR_ARG);
        EXPECT_EQ(t.size(), 0u);
        std::printf("[ perf     ] lwIP echo over %s: 1 MiB each way in %llu ms (%.1f MiB/s)\n",
                    ipv6 ? "IPv6" : "IPv4", static_cast<unsigned long long>(ms),
                    1000.0 / static_cast<double>(ms));
      },
      [&](Node& node) {
        auto& t = node.table();
        EchoServer echo(node);
        CHILD_CHECK(echo.listen(IpEndpoint{0, {}, port}) == ERR_OK);  // both families
        IpEndpoint local;
        CHILD_CHECK(t.localAddress(echo.listener, &local) == ERR_OK);
        CHILD_CHECK(local.len == 0 && local.port == port);
        std::optional<IpEndpoint> remote;
        node.events.accept = [&](H, H h, const IpEndpoint& r) {
          echo.backlog[h];
          remote = r;
        };
        CHILD_CHECK(node.runUntil([&] { return echo.finished == 1 || echo.errors > 0; }, 30000));
        CHILD_CHECK(echo.errors == 0);
        CHILD_CHECK(remote && sameIp(*remote, kParent, ipv6));
        CHILD_CHECK(t.close(echo.listener) == ERR_OK);
        return 0;
      });
  expectChildOk(childResult);
}

TEST(SocketTable, EchoesOneMiBOverIpv4) {
  echoOneMiB(false);
}

TEST(SocketTable, EchoesOneMiBOverIpv6) {
  echoOneMiB(true);
}

TEST(SocketTable, HalfCloseLetsThePeerKeepSending) {
  const uint16_t port = 7002;
  const auto reply = pattern(100000, 7);
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        H h = 0;
        std::vector<uint8_t> got;
        int connectErr = 1, closeErr = 1, writeAfterShutdown = 1;
        bool ended = false;
        node.events.connect = [&](H, int err) {
          connectErr = err;
          t.write(h, reinterpret_cast<const uint8_t*>("hello"), 5);
          t.shutdownWrite(h);
          writeAfterShutdown =
              static_cast<int>(t.write(h, reinterpret_cast<const uint8_t*>("!"), 1));
        };
        node.events.data = [&](H, const uint8_t* d, size_t n) {
          got.insert(got.end(), d, d + n);
          t.consumed(h, n);
        };
        node.events.end = [&](H) { ended = true; };
        node.events.close = [&](H, int err) { closeErr = err; };
        ASSERT_EQ(t.tcpConnect(kChild.v4(port), {}, &h), ERR_OK);
        ASSERT_TRUE(node.runUntil([&] { return ended || closeErr != 1; }, 20000));
        EXPECT_EQ(connectErr, ERR_OK);
        EXPECT_EQ(writeAfterShutdown, ERR_CLSD);
        EXPECT_EQ(closeErr, 1);
        EXPECT_TRUE(got == reply) << "got " << got.size() << " bytes";
        EXPECT_EQ(t.close(h), ERR_OK);
      },
      [&](Node& node) {
        auto& t = node.table();
        H l = 0, h = 0;
        std::string hello;
        bool ended = false;
        int64_t written = -1;
        node.events.accept = [&](H, H nh, const IpEndpoint&) { h = nh; };
        node.events.data = [&](H, const uint8_t* d, size_t n) {
          hello.append(reinterpret_cast<const char*>(d), n);
          t.consumed(h, n);
        };
        node.events.end = [&](H) {
          ended = true;
          // The peer has half-closed; this side still writes, from inside lwIP.
          written = t.write(h, reply.data(), reply.size());
          t.shutdownWrite(h);
        };
        CHILD_CHECK(t.tcpListen(kChild.v4(port), 8, &l) == ERR_OK);
        CHILD_CHECK(node.runUntil([&] { return ended; }, 20000));
        CHILD_CHECK(hello == "hello");
        CHILD_CHECK(written == static_cast<int64_t>(reply.size()));
        CHILD_CHECK(node.runUntil([&] { return t.queuedBytes(h) == 0; }, 20000));
        return 0;
      }));
}

TEST(SocketTable, ConnectToAClosedPortIsRefused) {
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        for (bool ipv6 : {false, true}) {
          H h = 0;
          int err = 1;
          node.events.connect = [&](H, int e) { err = e; };
          ASSERT_EQ(t.tcpConnect(ipv6 ? kChild.v6(7999) : kChild.v4(7999), {}, &h), ERR_OK);
          ASSERT_TRUE(node.runUntil([&] { return err != 1; }, 10000));
          EXPECT_EQ(err, ERR_RST) << (ipv6 ? "IPv6" : "IPv4");  // -> ECONNREFUSED
          EXPECT_EQ(t.close(h), ERR_ARG);                       // already gone
        }
        EXPECT_EQ(t.size(), 0u);
      },
      [](Node&) { return 0; }));
}

TEST(SocketTable, AbortResetsThePeer) {
  const uint16_t port = 7004;
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        // The child aborts this one from inside its receive callback.
        H a = 0;
        int aConnect = 1, aClose = 1;
        node.events.connect = [&](H h, int err) {
          if (h != a) return;
          aConnect = err;
          t.write(a, reinterpret_cast<const uint8_t*>("x"), 1);
        };
        node.events.close = [&](H h, int err) {
          if (h == a) aClose = err;
        };
        ASSERT_EQ(t.tcpConnect(kChild.v4(port), {}, &a), ERR_OK);
        ASSERT_TRUE(node.runUntil([&] { return aClose != 1; }, 10000));
        EXPECT_EQ(aConnect, ERR_OK);
        EXPECT_EQ(aClose, ERR_RST);  // -> ECONNRESET

        // This one we abort, from outside any callback; it must stay silent.
        H b = 0;
        int bConnect = 1, bEvents = 0;
        bool echoed = false;
        node.events.connect = [&](H, int err) {
          bConnect = err;
          t.write(b, reinterpret_cast<const uint8_t*>("y"), 1);
        };
        node.events.data = [&](H, const uint8_t*, size_t) { echoed = true; };
        node.events.close = [&](H, int) { ++bEvents; };
        ASSERT_EQ(t.tcpConnect(kChild.v6(port), {}, &b), ERR_OK);
        // The echo proves the child has accepted b before we reset it.
        ASSERT_TRUE(node.runUntil([&] { return echoed || bEvents > 0; }, 10000));
        EXPECT_EQ(bConnect, ERR_OK);
        EXPECT_EQ(t.abort(b), ERR_OK);
        EXPECT_EQ(t.abort(b), ERR_ARG);
        node.runFor(100);
        EXPECT_EQ(bEvents, 0);
        EXPECT_EQ(t.size(), 0u);
      },
      [&](Node& node) {
        auto& t = node.table();
        H l = 0;
        int aborted = 0, writeAfterAbort = 1, closeErr = 1, lateEvents = 0;
        std::set<H> abortedHandles;
        node.events.data = [&](H h, const uint8_t* d, size_t n) {
          if (abortedHandles.count(h) != 0) ++lateEvents;
          t.consumed(h, n);
          if (d[0] == 'y') t.write(h, d, 1);
          if (d[0] == 'x') {
            t.abort(h);
            abortedHandles.insert(h);
            ++aborted;
            writeAfterAbort = static_cast<int>(t.write(h, d, n));
          }
        };
        node.events.close = [&](H h, int err) {
          if (abortedHandles.count(h) != 0) ++lateEvents;
          closeErr = err;
        };
        CHILD_CHECK(t.tcpListen(IpEndpoint{0, {}, port}, 8, &l) == ERR_OK);
        CHILD_CHECK(node.runUntil([&] { return closeErr != 1; }, 20000));
        CHILD_CHECK(aborted == 1);
        CHILD_CHECK(writeAfterAbort == ERR_ARG);
        CHILD_CHECK(closeErr == ERR_RST);
        CHILD_CHECK(lateEvents == 0);
        CHILD_CHECK(t.size() == 1);  // the listener
        return 0;
      }));
}

TEST(SocketTable, BackpressureStopsTheSenderUntilTheConsumerCatchesUp) {
  const uint16_t port = 7005;
  // Larger than everything that can hold it while the receiver is paused: its window,
  // lwIP's send buffer and the table's queue.
  const auto data = pattern(16 * kMiB, 5);
  const size_t holdable = TCP_WND + TCP_SND_BUF + tap::SocketTableOptions{}.sendQueueBytes;
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        EchoClient c{t, data};
        int writable = 0;
        node.events.connect = [&](H, int err) {
          c.connectErr = err;
          c.pushMore();
        };
        node.events.writable = [&](H) {
          ++writable;
          c.pushMore();
        };
        node.events.close = [&](H, int err) { c.closeErr = err; };
        ASSERT_EQ(t.tcpConnect(kChild.v4(port), {}, &c.h), ERR_OK);
        node.runFor(1200);
        // The receiver has been paused all along: only its window, lwIP's send buffer
        // and the table's queue can hold data.
        const size_t early = c.sent;
        EXPECT_GE(c.shortWrites, 1);
        EXPECT_LE(early, holdable);
        EXPECT_GT(early, 0u);
        ASSERT_TRUE(node.runUntil([&] { return c.shut || c.closeErr != 1; }, 30000));
        EXPECT_GE(writable, 1);
        EXPECT_EQ(c.closeErr, 1);
        std::printf("[ info     ] sender stalled at %zu bytes while the receiver paused\n", early);
      },
      [&](Node& node) {
        auto& t = node.table();
        H l = 0, h = 0;
        size_t got = 0;
        bool consuming = false, ended = false, mismatch = false;
        node.events.accept = [&](H, H nh, const IpEndpoint&) {
          h = nh;
          t.pause(h);
        };
        node.events.data = [&](H, const uint8_t* d, size_t n) {
          if (got + n > data.size() || std::memcmp(d, data.data() + got, n) != 0) mismatch = true;
          got += n;
          if (consuming) t.consumed(h, n);
        };
        node.events.end = [&](H) { ended = true; };
        CHILD_CHECK(t.tcpListen(kChild.v4(port), 8, &l) == ERR_OK);
        CHILD_CHECK(node.runUntil([&] { return h != 0; }, 10000));
        node.runFor(1000);
        CHILD_CHECK(got == 0);  // paused: nothing delivered
        CHILD_CHECK(t.resume(h) == ERR_OK);
        CHILD_CHECK(got > 0);  // what was held comes at once
        CHILD_CHECK(got <= TCP_WND);
        node.runFor(500);
        CHILD_CHECK(got <= TCP_WND);  // nothing consumed: the window stays shut
        consuming = true;
        CHILD_CHECK(t.consumed(h, got) == ERR_OK);
        CHILD_CHECK(node.runUntil([&] { return ended; }, 30000));
        CHILD_CHECK(got == data.size());
        CHILD_CHECK(!mismatch);
        CHILD_CHECK(t.close(h) == ERR_OK);
        return 0;
      }));
}

TEST(SocketTable, PauseHoldsDataAndEndAndCloseInsideAHandlerIsGraceful) {
  const uint16_t port = 7011;
  const auto data = pattern(1000, 3);
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        H a = 0, b = 0;
        std::set<H> ended, closed;
        node.events.connect = [&](H h, int err) {
          ASSERT_EQ(err, ERR_OK);
          if (h == a) {
            t.write(a, data.data(), data.size());
            t.shutdownWrite(a);
          } else {
            t.write(b, reinterpret_cast<const uint8_t*>("bye"), 3);
          }
        };
        node.events.data = [&](H h, const uint8_t*, size_t n) { t.consumed(h, n); };
        node.events.end = [&](H h) { ended.insert(h); };
        node.events.close = [&](H h, int) { closed.insert(h); };
        ASSERT_EQ(t.tcpConnect(kChild.v4(port), {}, &a), ERR_OK);
        ASSERT_TRUE(node.runUntil([&] { return ended.count(a) + closed.count(a) > 0; }, 10000));
        EXPECT_EQ(closed.count(a), 0u);
        // The child closes b from inside its receive callback: still a FIN, not a reset.
        ASSERT_EQ(t.tcpConnect(kChild.v6(port), {}, &b), ERR_OK);
        ASSERT_TRUE(node.runUntil([&] { return ended.count(b) + closed.count(b) > 0; }, 10000));
        EXPECT_EQ(closed.count(b), 0u);
        t.close(a);
        t.close(b);
      },
      [&](Node& node) {
        auto& t = node.table();
        H l = 0, a = 0, b = 0;
        size_t gotA = 0;
        bool endA = false, dataAfterEnd = false, closedB = false;
        int64_t writeAfterClose = 1;
        node.events.accept = [&](H, H h, const IpEndpoint&) {
          if (a == 0) {
            a = h;
            t.pause(a);  // data arriving in the same segment as the handshake is held too
          } else {
            b = h;
          }
        };
        node.events.data = [&](H h, const uint8_t* d, size_t n) {
          t.consumed(h, n);
          if (h == a) {
            if (endA) dataAfterEnd = true;
            gotA += n;
          } else if (h == b) {
            t.close(b);
            closedB = true;
            writeAfterClose = t.write(b, d, n);
          }
        };
        node.events.end = [&](H h) {
          if (h == a) endA = true;
        };
        CHILD_CHECK(t.tcpListen(IpEndpoint{0, {}, port}, 8, &l) == ERR_OK);
        CHILD_CHECK(node.runUntil([&] { return a != 0; }, 10000));
        node.runFor(500);
        CHILD_CHECK(gotA == 0 && !endA);
        // Delivers the held bytes, then the end (normally at once; on a loaded machine
        // some may still be on their way).
        CHILD_CHECK(t.resume(a) == ERR_OK);
        CHILD_CHECK(node.runUntil([&] { return endA; }, 10000));
        CHILD_CHECK(gotA == data.size());
        CHILD_CHECK(!dataAfterEnd);
        CHILD_CHECK(t.close(a) == ERR_OK);
        CHILD_CHECK(node.runUntil([&] { return closedB; }, 10000));
        CHILD_CHECK(writeAfterClose == ERR_ARG);
        node.runFor(100);
        CHILD_CHECK(t.size() == 1);  // the listener
        return 0;
      }));
}

TEST(SocketTable, ManyConnectionsAtOnce) {
  constexpr int kCount = 200;
  const uint16_t port = 7006;
  std::vector<std::vector<uint8_t>> payloads;
  for (int i = 0; i < kCount; ++i) payloads.push_back(pattern(4096 + i, 100 + i));
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        std::map<H, std::unique_ptr<EchoClient>> clients;
        auto client = [&](H h) -> EchoClient* {
          auto it = clients.find(h);
          return it == clients.end() ? nullptr : it->second.get();
        };
        node.events.connect = [&](H h, int err) {
          if (auto* c = client(h)) {
            c->connectErr = err;
            if (err == ERR_OK) c->pushMore();
          }
        };
        node.events.writable = [&](H h) {
          if (auto* c = client(h)) c->pushMore();
        };
        node.events.data = [&](H h, const uint8_t* d, size_t n) {
          if (auto* c = client(h)) c->onData(d, n);
        };
        node.events.end = [&](H h) {
          if (auto* c = client(h)) c->ended = true;
        };
        node.events.close = [&](H h, int err) {
          if (auto* c = client(h)) c->closeErr = err;
        };
        // Resolve the child's MAC first: lwIP queues only ARP_QUEUE_LEN (10) packets for
        // an unresolved neighbour, and SYNs dropped there wait out a 3 s retransmission.
        H probe = 0;
        ASSERT_EQ(t.udpBind(IpEndpoint{}, &probe), ERR_OK);
        ASSERT_EQ(t.udpSendTo(probe, kChild.v4(9), payloads[0].data(), 1), ERR_OK);
        node.runFor(50);
        t.close(probe);
        const uint64_t start = monotonicMs();
        for (int i = 0; i < kCount; ++i) {
          H h = 0;
          ASSERT_EQ(t.tcpConnect(kChild.v4(port), {}, &h), ERR_OK);
          clients[h] = std::make_unique<EchoClient>(EchoClient{t, payloads[i], h});
        }
        EXPECT_EQ(t.size(), static_cast<size_t>(kCount));
        const bool done = node.runUntil(
            [&] {
              return std::all_of(clients.begin(), clients.end(),
                                 [](const auto& kv) { return kv.second->done(); });
            },
            60000);
        int ok = 0;
        for (auto& [h, c] : clients) {
          if (c->ended && !c->mismatch && c->received == c->data.size()) ++ok;
          t.close(h);
        }
        EXPECT_TRUE(done);
        EXPECT_EQ(ok, kCount);
        std::printf("[ perf     ] %d concurrent echo connections in %llu ms\n", kCount,
                    static_cast<unsigned long long>(monotonicMs() - start));
      },
      [&](Node& node) {
        EchoServer echo(node);
        CHILD_CHECK(echo.listen(kChild.v4(port)) == ERR_OK);
        CHILD_CHECK(
            node.runUntil([&] { return echo.finished == kCount || echo.errors > 0; }, 60000));
        CHILD_CHECK(echo.errors == 0);
        return 0;
      }));
}

TEST(SocketTable, UdpDatagramsBothWays) {
  const uint16_t port = 7007;
  static const uint8_t kBye[] = {'b', 'y', 'e'};
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        H u = 0;
        ASSERT_EQ(t.udpBind(IpEndpoint{}, &u), ERR_OK);
        IpEndpoint local;
        ASSERT_EQ(t.localAddress(u, &local), ERR_OK);
        EXPECT_NE(local.port, 0);
        std::vector<uint8_t> last;
        IpEndpoint from;
        node.events.datagram = [&](H, const IpEndpoint& f, const uint8_t* d, size_t n) {
          last.assign(d, d + n);
          from = f;
        };
        // IP reassembly is capped by lwIP's IP_REASS_MAX_PBUFS (10 pbufs), hence no
        // datagram of tens of kilobytes here.
        for (bool ipv6 : {false, true}) {
          const IpEndpoint to = ipv6 ? kChild.v6(port) : kChild.v4(port);
          for (size_t size : {1, 100, 1400, 2700, 8000}) {
            const auto payload = pattern(size, static_cast<uint32_t>(size));
            bool echoed = false;
            // The first datagram may wait on ARP; lwIP queues only a few packets.
            for (int attempt = 0; attempt < 3 && !echoed; ++attempt) {
              last.clear();
              ASSERT_EQ(t.udpSendTo(u, to, payload.data(), payload.size()), ERR_OK);
              echoed = node.runUntil([&] { return last == payload; }, 2000);
            }
            EXPECT_TRUE(echoed) << size << " bytes over " << (ipv6 ? "IPv6" : "IPv4");
            EXPECT_EQ(from, to);
          }
        }
        EXPECT_EQ(t.udpSendTo(u, kChild.v4(port), kBye, sizeof kBye), ERR_OK);
        EXPECT_EQ(t.close(u), ERR_OK);
      },
      [&](Node& node) {
        auto& t = node.table();
        H u = 0;
        bool bye = false;
        int echoed = 0;
        node.events.datagram = [&](H h, const IpEndpoint& f, const uint8_t* d, size_t n) {
          if (n == sizeof kBye && std::memcmp(d, kBye, n) == 0) {
            bye = true;
            return;
          }
          if (t.udpSendTo(h, f, d, n) == ERR_OK) ++echoed;
        };
        CHILD_CHECK(t.udpBind(IpEndpoint{0, {}, port}, &u) == ERR_OK);
        CHILD_CHECK(node.runUntil([&] { return bye; }, 30000));
        CHILD_CHECK(echoed >= 10);
        return 0;
      }));
}

TEST(SocketTable, OurOwnAddressesLoopBackAndTheHostLoopbackIsRefused) {
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        H l = 0, u = 0, h = 0;
        ASSERT_EQ(t.tcpListen(IpEndpoint{}, 8, &l), ERR_OK);
        ASSERT_EQ(t.udpBind(IpEndpoint{}, &u), ERR_OK);
        IpEndpoint bound;
        ASSERT_EQ(t.localAddress(u, &bound), ERR_OK);
        std::string echoed, datagrams;
        int connected = 0;
        node.events.accept = [&](H, H a, const IpEndpoint&) {
          // An echo server on the accepted side.
          node.events.data = [&, a](H from, const uint8_t* d, size_t n) {
            t.consumed(from, n);
            if (from == a)
              t.write(a, d, n);
            else
              echoed.append(reinterpret_cast<const char*>(d), n);
          };
        };
        node.events.connect = [&](H c, int err) {
          if (err == ERR_OK) ++connected;
          t.write(c, reinterpret_cast<const uint8_t*>("self"), 4);
        };
        node.events.datagram = [&](H, const IpEndpoint& from, const uint8_t* d, size_t n) {
          EXPECT_EQ(from.len, 4);
          datagrams.append(reinterpret_cast<const char*>(d), n);
        };
        // TCP to our own IPv4 and IPv6 addresses, and UDP to our own IPv4 address.
        IpEndpoint listening;
        ASSERT_EQ(t.localAddress(l, &listening), ERR_OK);
        for (const auto& to : {kParent.v4(listening.port), kParent.v6(listening.port)}) {
          ASSERT_EQ(t.tcpConnect(to, {}, &h), ERR_OK);
          echoed.clear();
          ASSERT_TRUE(node.runUntil([&] { return echoed == "self"; }, 5000)) << echoed;
        }
        EXPECT_EQ(connected, 2);
        auto toSelf = kParent.v4(bound.port);
        ASSERT_EQ(t.udpSendTo(u, toSelf, reinterpret_cast<const uint8_t*>("dgram"), 5), ERR_OK);
        ASSERT_TRUE(node.runUntil([&] { return datagrams == "dgram"; }, 5000));

        // 127/8, ::1 and the unspecified address are the host's, not the network's.
        const uint8_t loop4[4] = {127, 0, 0, 1}, any4[4] = {0, 0, 0, 0};
        uint8_t loop6[16] = {};
        loop6[15] = 1;
        for (const auto& e : {IpEndpoint::v4(loop4, 7008), IpEndpoint::v6(loop6, 7008),
                              IpEndpoint::v4(any4, 7008)}) {
          EXPECT_EQ(t.tcpConnect(e, {}, &h), ERR_RST);  // -> ECONNREFUSED
          EXPECT_EQ(t.udpSendTo(u, e, loop4, 4), ERR_RTE);
        }
        const uint8_t group[4] = {224, 0, 0, 1}, bcast[4] = {10, 147, 17, 255};
        EXPECT_EQ(t.tcpConnect(IpEndpoint::v4(group, 80), {}, &h), ERR_VAL);
        EXPECT_EQ(t.tcpConnect(IpEndpoint::v4(bcast, 80), {}, &h), ERR_VAL);
        EXPECT_EQ(t.tcpConnect(IpEndpoint{}, {}, &h), ERR_VAL);
        const uint8_t elsewhere[4] = {192, 0, 2, 1};
        EXPECT_EQ(t.tcpConnect(IpEndpoint::v4(elsewhere, 80), {}, &h), ERR_RTE);  // no route
        EXPECT_EQ(t.close(l), ERR_OK);
        EXPECT_EQ(t.close(u), ERR_OK);
      },
      [](Node&) { return 0; }));
}

TEST(SocketTable, ConnectTimeoutFiresWhenThePeerIsSilent) {
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        H h = 0;
        int err = 1;
        node.events.connect = [&](H, int e) { err = e; };
        tap::ConnectOptions options;
        options.timeoutMs = 300;
        const uint64_t start = monotonicMs();
        ASSERT_EQ(t.tcpConnect(kChild.v4(7009), options, &h), ERR_OK);
        ASSERT_TRUE(node.runUntil([&] { return err != 1; }, 5000));
        const uint64_t ms = monotonicMs() - start;
        EXPECT_EQ(err, ERR_TIMEOUT);  // -> ETIMEDOUT
        EXPECT_GE(ms, 250u);
        EXPECT_LT(ms, 2000u);
        EXPECT_EQ(t.size(), 0u);
      },
      [](Node& node) {
        node.dropIncoming = true;  // a black hole, ARP included
        return 0;
      }));
}

TEST(SocketTable, GracefulCloseStillDeliversQueuedBytes) {
  const uint16_t port = 7010;
  const auto data = pattern(200 * 1024, 11);
  expectChildOk(runPair(
      [&](Node& node) {
        auto& t = node.table();
        int events = 0;
        node.events.connect = [&](H, int) { ++events; };
        node.events.close = [&](H, int) { ++events; };
        H h = 0;
        ASSERT_EQ(t.tcpConnect(kChild.v6(port), {}, &h), ERR_OK);
        // Before the connect completes: all of it waits in the table's queue.
        EXPECT_EQ(t.write(h, data.data(), data.size()), static_cast<int64_t>(data.size()));
        EXPECT_EQ(t.close(h), ERR_OK);
        EXPECT_EQ(t.write(h, data.data(), 1), ERR_ARG);
        ASSERT_TRUE(node.runUntil([&] { return t.size() == 0; }, 20000));
        EXPECT_EQ(events, 0);  // closed handles stay silent
      },
      [&](Node& node) {
        auto& t = node.table();
        H l = 0, h = 0;
        std::vector<uint8_t> got;
        bool ended = false;
        node.events.accept = [&](H, H nh, const IpEndpoint&) { h = nh; };
        node.events.data = [&](H, const uint8_t* d, size_t n) {
          got.insert(got.end(), d, d + n);
          t.consumed(h, n);
        };
        node.events.end = [&](H) { ended = true; };
        CHILD_CHECK(t.tcpListen(IpEndpoint{0, {}, port}, 8, &l) == ERR_OK);
        H again = 0;
        CHILD_CHECK(t.tcpListen(IpEndpoint{0, {}, port}, 8, &again) == ERR_USE);
        CHILD_CHECK(node.runUntil([&] { return ended; }, 20000));
        CHILD_CHECK(got == data);
        CHILD_CHECK(t.close(h) == ERR_OK);
        return 0;
      }));
}

}  // namespace
}  // namespace zts::test
