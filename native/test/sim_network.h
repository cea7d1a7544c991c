// A deterministic in-memory UDP network for driving NodeCores in tests: a fake clock, and
// a wire that can lose, delay, duplicate and reorder datagrams at settable rates.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <vector>

#include "vl1/node_core.h"

namespace zts::test {

struct WireSettings {
  double loss = 0.0;       // probability a datagram is dropped
  double duplicate = 0.0;  // probability it is delivered twice
  int64_t minDelayMs = 1;  // delays are uniform in [min, max]: unequal delays reorder
  int64_t maxDelayMs = 1;
};

class SimNetwork;

class SimNode : public vl1::CoreHost {
 public:
  SimNode(SimNetwork& net, vl1::InetAddress endpoint, vl1::CoreOptions options);

  void sendDatagram(int64_t localSocket, const vl1::InetAddress& to, const uint8_t* data,
                    size_t len) override;
  void checkIdentity(const vl1::Identity& identity) override;
  void onEvent(vl1::CoreEvent&& event) override { events.push_back(std::move(event)); }
  struct Frame {
    uint64_t nwid, dst, src;
    uint16_t etherType;
    std::vector<uint8_t> data;
  };
  void onFrame(uint64_t nwid, uint64_t dst, uint64_t src, uint16_t etherType, const uint8_t* data,
               size_t len) override {
    frames.push_back({nwid, dst, src, etherType, std::vector<uint8_t>(data, data + len)});
  }
  std::vector<Frame> frames;
  uint64_t random64() override;

  bool has(vl1::CoreEvent::Type type, uint64_t address = 0) const {
    for (const auto& e : events)
      if (e.type == type && (address == 0 || e.address == address)) return true;
    return false;
  }
  size_t count(vl1::CoreEvent::Type type) const {
    size_t n = 0;
    for (const auto& e : events) n += e.type == type;
    return n;
  }

  vl1::NodeCore& core() { return *core_; }
  const vl1::InetAddress& endpoint() const { return endpoint_; }
  std::vector<vl1::CoreEvent> events;
  std::vector<vl1::Identity> identityChecks;  // pending results, delivered next step
  size_t identityChecksRequested = 0;         // all the core ever asked for
  bool failIdentityChecks = false;
  int64_t nextTimer = 0;
  // A stopped process: receives nothing, runs no timers.
  bool down = false;
  // A NAT in front of this node took a new port: it is seen at `to` from now on, and what
  // is sent to its old endpoint is lost.
  void moveTo(const vl1::InetAddress& to) { endpoint_ = to; }
  // The process started again: the same identity and options, nothing else remembered.
  void restart(int64_t now) {
    core_ = std::make_unique<vl1::NodeCore>(options_, *this);
    events.clear();
    identityChecks.clear();
    down = false;
    nextTimer = 0;
    core_->start(now);
  }

 private:
  SimNetwork& net_;
  vl1::InetAddress endpoint_;
  vl1::CoreOptions options_;
  std::unique_ptr<vl1::NodeCore> core_;
};

class SimNetwork {
 public:
  explicit SimNetwork(uint64_t seed = 1) : rng_(seed) {}

  WireSettings wire;
  int64_t now = 1700000000000;

  SimNode& add(uint16_t port, vl1::CoreOptions options) {
    const uint8_t lo[4] = {127, 0, 0, 1};
    nodes_.push_back(
        std::make_unique<SimNode>(*this, vl1::InetAddress::v4(lo, port), std::move(options)));
    return *nodes_.back();
  }

  void start() {
    for (auto& n : nodes_) n->core().start(now);
  }

  void send(const vl1::InetAddress& from, const vl1::InetAddress& to, const uint8_t* data,
            size_t len) {
    ++sent;
    largest = std::max(largest, len);
    if (dropIf && dropIf(from, to, data, len)) {
      ++lost;
      return;
    }
    if (chance(wire.loss)) {
      ++lost;
      return;
    }
    const int copies = chance(wire.duplicate) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      std::uniform_int_distribution<int64_t> d(wire.minDelayMs, wire.maxDelayMs);
      inFlight_.push({now + d(rng_), seq_++, from, to, std::vector<uint8_t>(data, data + len)});
    }
  }

  // Advances the clock in 1 ms steps, delivering datagrams and running timers, until
  // `done` holds or `maxMs` pass. Returns whether `done` held.
  bool runUntil(const std::function<bool()>& done, int64_t maxMs) {
    const int64_t end = now + maxMs;
    while (now < end) {
      if (done()) return true;
      step();
    }
    return done();
  }
  void runFor(int64_t ms) {
    runUntil([] { return false; }, ms);
  }

  uint64_t random() { return rng_(); }
  bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  // A test's own losses: datagrams for which it returns true are dropped.
  std::function<bool(const vl1::InetAddress& from, const vl1::InetAddress& to, const uint8_t* data,
                     size_t len)>
      dropIf;
  uint64_t sent = 0;
  uint64_t lost = 0;
  size_t largest = 0;  // the largest datagram sent

 private:
  struct InFlight {
    int64_t at;
    uint64_t seq;
    vl1::InetAddress from, to;
    std::vector<uint8_t> data;
    bool operator>(const InFlight& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  void step() {
    ++now;
    while (!inFlight_.empty() && inFlight_.top().at <= now) {
      InFlight d = inFlight_.top();
      inFlight_.pop();
      for (auto& n : nodes_)
        if (n->endpoint() == d.to && !n->down)
          n->core().processDatagram(now, 0, d.from, d.data.data(), d.data.size());
    }
    for (auto& n : nodes_) {
      if (n->down) continue;
      auto checks = std::move(n->identityChecks);
      n->identityChecks.clear();
      for (auto& id : checks)
        n->core().identityChecked(now, id, !n->failIdentityChecks && id.locallyValidate());
      if (now >= n->nextTimer) n->nextTimer = n->core().processTimers(now);
    }
  }

  std::mt19937_64 rng_;
  uint64_t seq_ = 0;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> inFlight_;
  std::vector<std::unique_ptr<SimNode>> nodes_;
};

inline SimNode::SimNode(SimNetwork& net, vl1::InetAddress endpoint, vl1::CoreOptions options)
    : net_(net), endpoint_(endpoint), options_(std::move(options)) {
  core_ = std::make_unique<vl1::NodeCore>(options_, *this);
}

inline void SimNode::sendDatagram(int64_t, const vl1::InetAddress& to, const uint8_t* data,
                                  size_t len) {
  net_.send(endpoint_, to, data, len);
}

inline void SimNode::checkIdentity(const vl1::Identity& identity) {
  ++identityChecksRequested;
  identityChecks.push_back(identity);
}

inline uint64_t SimNode::random64() {
  return net_.random();
}

}  // namespace zts::test
