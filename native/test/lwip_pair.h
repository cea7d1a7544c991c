// Two lwIP stacks talking over Ethernet, for socket tests. lwIP is process-global, so the
// second stack is a forked child: each process has one EthernetTap and one SocketTable,
// and frames (dst(6) src(6) type(2) payload) cross a SOCK_SEQPACKET socketpair. The child
// reports a result code (0, or the line of its failed check) in a control frame, then
// keeps its stack running until the parent hangs up, and leaves with _exit(): it never
// returns into GoogleTest. Each side can impair what it sends (drop frames, delay them):
// with both sides doing so, the link is lossy and long both ways.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "tap/ethernet_tap.h"
#include "tap/socket_table.h"

namespace zts::test {

// A failed check in the child: the line number becomes its result.
#define CHILD_CHECK(cond)                                                            \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "child: check failed at line %d: %s\n", __LINE__, #cond); \
      return __LINE__;                                                               \
    }                                                                                \
  } while (0)

inline uint64_t monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

struct Station {
  uint64_t mac;
  uint8_t ip4[4];
  uint8_t ip6[16];
  tap::IpEndpoint v4(uint16_t port) const { return tap::IpEndpoint::v4(ip4, port); }
  tap::IpEndpoint v6(uint16_t port) const { return tap::IpEndpoint::v6(ip6, port); }
};

inline const Station kParent{
    0x02aaaaaaaa01, {10, 147, 17, 1}, {0xfd, 0x5a, 0x17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}};
inline const Station kChild{
    0x02bbbbbbbb02, {10, 147, 17, 2}, {0xfd, 0x5a, 0x17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02}};

// SocketEvents as assignable functions; unset ones do nothing.
struct Events : tap::SocketEvents {
  using H = tap::SocketHandle;
  std::function<void(H, int)> connect;
  std::function<void(H, H, const tap::IpEndpoint&)> accept;
  std::function<void(H, const uint8_t*, size_t)> data;
  std::function<void(H)> end;
  std::function<void(H)> writable;
  std::function<void(H, int)> close;
  std::function<void(H, const tap::IpEndpoint&, const uint8_t*, size_t)> datagram;

  void onConnect(H h, int err) override {
    if (connect) connect(h, err);
  }
  void onAccept(H l, H h, const tap::IpEndpoint& remote) override {
    if (accept) accept(l, h, remote);
  }
  void onData(H h, const uint8_t* d, size_t n) override {
    if (data) data(h, d, n);
  }
  void onEnd(H h) override {
    if (end) end(h);
  }
  void onWritable(H h) override {
    if (writable) writable(h);
  }
  void onClose(H h, int err) override {
    if (close) close(h, err);
  }
  void onDatagram(H h, const tap::IpEndpoint& from, const uint8_t* d, size_t n) override {
    if (datagram) datagram(h, from, d, n);
  }
};

// One side: its tap, its socket table, and the pump that moves frames.
class Node {
 public:
  static constexpr uint16_t kControl = 0x88b5;  // harness frames: the child's result

  Node(int fd, const Station& me, const Station& peer, tap::SocketTableOptions options = {},
       unsigned mtu = 2800)
      : fd_(fd) {
    tap_ = std::make_unique<tap::EthernetTap>(
        me.mac, mtu, [this](uint64_t d, uint64_t s, uint16_t t, const uint8_t* p, size_t n) {
          if (dropOutgoing || (dropFrame && dropFrame(t, p, n))) return;
          ++framesOut;
          std::vector<uint8_t> mangled;
          if (mangleFrame) {
            mangled.assign(p, p + n);
            mangleFrame(t, mangled.data(), n);
            p = mangled.data();
          }
          queueFrame(d, s, t, p, n, delayMs);
        });
    tap_->setIpv4(me.ip4, 24);
    tap_->addIpv6(me.ip6);
    const Station other = peer;
    tap_->setNdpResolver([other](const uint8_t ip[16]) -> std::optional<uint64_t> {
      if (std::memcmp(ip, other.ip6, 16) == 0) return other.mac;
      return std::nullopt;
    });
    table_ = std::make_unique<tap::SocketTable>(events, options);
  }
  ~Node() {
    table_.reset();  // before the tap: its sockets use the tap's addresses
    tap_.reset();
  }

  tap::SocketTable& table() { return *table_; }
  Events events;
  bool dropOutgoing = false;
  bool dropIncoming = false;
  // Impairments of the frames lwIP sends (type, payload): dropped when this says so,
  // else held delayMs before they leave. seenIncoming sees each frame lwIP receives.
  std::function<bool(uint16_t, const uint8_t*, size_t)> dropFrame;
  int delayMs = 0;
  std::function<void(uint16_t, const uint8_t*, size_t)> seenIncoming;
  // Rewrites a frame lwIP sends (type, payload) before it leaves: a peer that lies.
  std::function<void(uint16_t, uint8_t*, size_t)> mangleFrame;
  size_t framesOut = 0;  // frames lwIP sent (not dropped)
  // The child's result (0 or a failed line) in the parent; in the child, the last
  // signal() from the parent.
  std::optional<int> peerResult;
  bool linkClosed = false;

  // Moves frames and runs lwIP's timers for up to maxWaitMs.
  void pumpOnce(int maxWaitMs) {
    table_->flush();
    sendQueued();
    const bool due = !outbox_.empty() && outbox_.front().releaseMs <= monotonicMs();
    pollfd pfd{fd_, static_cast<short>(POLLIN | (due ? POLLOUT : 0)), 0};
    int wait = std::min<int>(maxWaitMs, static_cast<int>(tap::runLwipTimers()));
    if (!outbox_.empty() && !due)
      wait = std::min<int>(wait, static_cast<int>(outbox_.front().releaseMs - monotonicMs()));
    if (!linkClosed) ::poll(&pfd, 1, wait);
    for (int i = 0; i < 256 && !linkClosed; ++i) {
      const ssize_t n = ::recv(fd_, rx_, sizeof rx_, MSG_DONTWAIT);
      if (n == 0) linkClosed = true;
      if (n <= 0) break;
      receive(rx_, static_cast<size_t>(n));
    }
    tap_->deliverDeferred();
    tap_->deliverLoopback();
    tap::runLwipTimers();
    table_->tick(monotonicMs());
    sendQueued();
  }

  // Pumps until done() or timeoutMs; returns done().
  bool runUntil(const std::function<bool()>& done, int timeoutMs) {
    const uint64_t deadline = monotonicMs() + static_cast<uint64_t>(timeoutMs);
    while (!done()) {
      if (monotonicMs() >= deadline) return false;
      pumpOnce(20);
    }
    return true;
  }
  void runFor(int ms) {
    runUntil([] { return false; }, ms);
  }

  // A control frame that goes through even while frames are dropped.
  void signal(int code) { sendResult(code); }

  void sendResult(int code) {
    uint8_t payload[4];
    std::memcpy(payload, &code, 4);
    queueFrame(0, 0, kControl, payload, 4, 0);
    sendQueued();
  }

 private:
  struct Outgoing {
    uint64_t releaseMs;
    std::vector<uint8_t> frame;
  };

  void queueFrame(uint64_t dst, uint64_t src, uint16_t type, const uint8_t* p, size_t n,
                  int delay) {
    std::vector<uint8_t> f(14 + n);
    for (int i = 0; i < 6; ++i) {
      f[i] = static_cast<uint8_t>(dst >> (40 - 8 * i));
      f[6 + i] = static_cast<uint8_t>(src >> (40 - 8 * i));
    }
    f[12] = static_cast<uint8_t>(type >> 8);
    f[13] = static_cast<uint8_t>(type);
    std::memcpy(f.data() + 14, p, n);
    // One delay for all frames keeps the outbox in release order.
    outbox_.push_back({monotonicMs() + static_cast<uint64_t>(delay), std::move(f)});
  }

  // Non-blocking: both sides send at once, so a blocking send could deadlock.
  void sendQueued() {
    while (!outbox_.empty() && !linkClosed) {
      if (outbox_.front().releaseMs > monotonicMs()) return;
      const auto& f = outbox_.front().frame;
      const ssize_t n = ::send(fd_, f.data(), f.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0) linkClosed = true;
      outbox_.pop_front();
    }
  }

  void receive(const uint8_t* f, size_t n) {
    if (n < 14) return;
    uint64_t dst = 0, src = 0;
    for (int i = 0; i < 6; ++i) {
      dst = (dst << 8) | f[i];
      src = (src << 8) | f[6 + i];
    }
    const uint16_t type = static_cast<uint16_t>((f[12] << 8) | f[13]);
    if (type == kControl && n >= 18) {
      int code;
      std::memcpy(&code, f + 14, 4);
      peerResult = code;
      return;
    }
    if (dropIncoming) return;
    if (seenIncoming) seenIncoming(type, f + 14, n - 14);
    tap_->input(dst, src, type, f + 14, n - 14);
  }

  int fd_;
  std::unique_ptr<tap::EthernetTap> tap_;
  std::unique_ptr<tap::SocketTable> table_;
  std::deque<Outgoing> outbox_;
  uint8_t rx_[4096];
};

// Forks: `child` runs in the child on its own Node and returns 0 or a failed line;
// `parent` runs here with GoogleTest assertions. Returns the child's result (-1 if it
// never reported).
inline int runPair(const std::function<void(Node&)>& parent, const std::function<int(Node&)>& child,
                   tap::SocketTableOptions options = {}, int childTimeoutMs = 60000,
                   unsigned mtu = 2800) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0) return -2;
  for (int fd : fds) {
    const int size = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  std::fflush(nullptr);  // the child must not repeat the parent's buffered output
  const pid_t pid = fork();
  if (pid < 0) return -3;
  if (pid == 0) {
    ::close(fds[0]);
    int code = -4;
    try {
      Node node(fds[1], kChild, kParent, options, mtu);
      code = child(node);
      node.events = Events();  // its handlers may capture the child function's locals
      node.sendResult(code);
      // Keep answering until the parent is done with its side.
      node.runUntil([&] { return node.linkClosed; }, childTimeoutMs);
    } catch (...) {
      code = -5;
    }
    _exit(code == 0 ? 0 : 1);
  }
  ::close(fds[1]);
  int result = -1;
  {
    Node node(fds[0], kParent, kChild, options, mtu);
    parent(node);
    node.events = Events();
    node.runUntil([&] { return node.peerResult.has_value() || node.linkClosed; }, childTimeoutMs);
    if (node.peerResult) result = *node.peerResult;
  }
  ::close(fds[0]);
  int status = 0;
  const uint64_t deadline = monotonicMs() + 10000;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (monotonicMs() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    usleep(1000);
  }
  return result;
}

}  // namespace zts::test
