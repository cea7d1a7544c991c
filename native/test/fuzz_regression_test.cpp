// Inputs the fuzz targets (native/fuzz) found to break the engine, kept as unit tests. Each
// one is delivered the way the verbs fuzzer does it: core B learns peer A through a HELLO,
// then gets a packet from A armored with their key, so it reaches the verb's parser.
#include <gtest/gtest.h>

#include "crypto/primitives.h"
#include "test_support.h"
#include "util/buffer.h"
#include "vl1/node_core.h"

namespace zts {
namespace {

namespace proto = vl1::proto;

// vectors/README.md V1 (A) and V2 (B).
const char* kIdentityA =
    "8e4df28b72:0:ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd97"
    "02cae365f2af5fb4c420908b803a681d4daef6114d78a2d7:bd8dd6e4ce7022d2f812797a80c6ee8ad180dc4ebf30"
    "1dec8b06d1be08832bddd63a2f1cfa7b2c504474c75bdc8898ba476ef92e8e2d0509f8441985171ff16e";
const char* kIdentityB =
    "0b9ec04f21:0:864801cefb83df0e96e5ae162f27115dac7530ce47361695276773e4dce3f169001782068d9c48ba"
    "d9ede39655cd3bd87ae9a00d6e4436096796422afe918051:25555f65b3bc35f0092dc618cb2b0c515061b19e3f55"
    "9a1adf9369f52b822e361da7467c92c7008fdd9ecac17971ba3086e6e75da72c0cd545e4b0daddd93407";

class Host : public vl1::CoreHost {
 public:
  void sendDatagram(int64_t, const vl1::InetAddress&, const uint8_t*, size_t) override {}
  void checkIdentity(const vl1::Identity& identity) override { checks.push_back(identity); }
  void onEvent(vl1::CoreEvent&&) override {}
  uint64_t random64() override { return 0x1122334455667788; }
  std::vector<vl1::Identity> checks;
};

// Core B with peer A known and trusted.
class OnePeer {
 public:
  OnePeer() {
    crypto::initialize();
    a_ = *vl1::Identity::fromString(kIdentityA);
    vl1::CoreOptions options;
    options.identity = *vl1::Identity::fromString(kIdentityB);
    options.identity.agree(a_, key_);
    core_ = std::make_unique<vl1::NodeCore>(std::move(options), host_);
    core_->start(now_);

    std::vector<uint8_t> hello;
    vl1::beginPacket(hello, 1, core_->address(), a_.address(), proto::Verb::kHello);
    util::Writer w(hello);
    w.u8(proto::kProtocolVersion);
    w.u8(1);
    w.u8(14);
    w.u16(1);
    w.u64(static_cast<uint64_t>(now_));
    uint8_t id[vl1::kIdentityBinaryPublicLen];
    a_.toBinary(id, sizeof id, false);
    w.bytes(id, sizeof id);
    vl1::armor(hello.data(), hello.size(), key_, proto::kCipherPoly1305None, false);
    core_->processDatagram(now_, 0, from_, hello.data(), hello.size());
    for (const auto& checked : host_.checks) core_->identityChecked(now_, checked, true);
  }

  vl1::NodeCore& core() { return *core_; }
  bool knowsA() { return core_->peer(a_.address()) != nullptr; }

  void receive(proto::Verb verb, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> p;
    // Each packet its own id: a repeated id is dropped as a replay.
    vl1::beginPacket(p, nextPacketId_++, core_->address(), a_.address(), verb);
    p.insert(p.end(), payload.begin(), payload.end());
    vl1::armor(p.data(), p.size(), key_, proto::kCipherPoly1305Salsa2012, false);
    now_ += 1000;
    core_->processDatagram(now_, 0, from_, p.data(), p.size());
  }

 private:
  Host host_;
  vl1::Identity a_;
  uint8_t key_[vl1::kAgreedKeyLen];
  std::unique_ptr<vl1::NodeCore> core_;
  int64_t now_ = 1700000000000;
  uint64_t nextPacketId_ = 2;
  vl1::InetAddress from_ = *vl1::InetAddress::parse("10.0.0.1/9993");
};

// verbs fuzzer, input 6e2f0406ef0010f669feffffd867: a MULTICAST_FRAME whose flags say a
// source MAC follows (0x04) but whose payload ends first. The parser converted the MAC
// straight from Reader::bytes(), which is nullptr when short: a null read from the wire.
TEST(FuzzRegression, MulticastFrameCutShortBeforeTheSourceMac) {
  OnePeer lab;
  ASSERT_TRUE(lab.knowsA());
  const uint64_t before = lab.core().counters().dropsOf(vl1::Drop::kMalformed);
  lab.receive(proto::Verb::kMulticastFrame, test::hex("2f0406ef0010f669 fe ffffd867"));
  lab.receive(proto::Verb::kMulticastFrame, test::hex("2f0406ef0010f669 04 0102"));
  EXPECT_EQ(lab.core().counters().dropsOf(vl1::Drop::kMalformed), before + 2);
}

}  // namespace
}  // namespace zts
