// Every verb handler of NodeCore (protocol.md §3). A fresh core with identity B learns
// peer A through a real HELLO and an OK(HELLO), then receives one packet from A whose verb
// and payload come from the input, armored with the A<->B key so that it authenticates
// and reaches the payload parsers. The raw input is then fed as a datagram too. The core
// has joined two networks, so that VL2 verbs get past "no such network": A's private
// network 8e4df28b72000001 (config V15, as if cached from an earlier run; A has shown its
// own certificate of membership) and the public ad-hoc network ff00500050000000 (V17).
//
// Input: byte 0 = verb (low 5 bits) | scenario (bits 5-6) | 0x80 the payload is sent as an
// LZ4 block (verb compressed flag); the rest is the payload. Scenarios:
//   0x00 A is an ordinary peer on a direct path;
//   0x20 the same, but the packet is relayed (hop count 1, from a relay's address);
//   0x40 A is the planet's root (RENDEZVOUS, OK(WHOIS) and planet updates are accepted
//        only from roots), and the core has asked it who kWhoisAbout is;
//   0x60 the core is itself a root (relays, answers WHOIS with the planet attached).
#include <cstring>
#include <vector>

#include "fuzz_support.h"
#include "network_config_v15.h"
#include "util/buffer.h"
#include "util/hex.h"
#include "vl1/node_core.h"
#include "vl2/credentials.h"

namespace {

using namespace zts;
namespace proto = vl1::proto;

constexpr int64_t kStart = 1700000000000;
// Every "random" packet id the core draws is this one, so a reply quoting it answers
// whatever the core sent last. It is V9's packet id: the V10 OK(HELLO) seed answers it.
constexpr uint64_t kCoreId = 0x112233445566778f;
constexpr uint64_t kInputId = 0x0102030405060708;
// An address the core wants to reach but does not know: the stock id2 identity, whose
// public form is in the OK(WHOIS) seed.
constexpr uint64_t kWhoisAbout = 0x3f6bb1139c;

constexpr uint64_t kPrivateNetwork = 0x8e4df28b72000001;
constexpr uint64_t kAdhocNetwork = 0xff00500050000000;

enum class Scenario : uint8_t { kDirect = 0x00, kRelayed = 0x20, kARoot = 0x40, kBRoot = 0x60 };

// Sockets and identity checks stubbed out: the core does no I/O of its own.
class Host : public vl1::CoreHost {
 public:
  void sendDatagram(int64_t, const vl1::InetAddress&, const uint8_t* data, size_t len) override {
    // Reading every byte lets ASan check the whole buffer the core hands out.
    uint8_t x = 0;
    for (size_t i = 0; i < len; ++i) x ^= data[i];
    sink_ ^= x;
  }
  void sendNatOpener(int64_t localSocket, const vl1::InetAddress& to, const uint8_t* data,
                     size_t len, unsigned) override {
    sendDatagram(localSocket, to, data, len);
  }
  void onFrame(uint64_t, uint64_t, uint64_t, uint16_t, const uint8_t* data, size_t len) override {
    sendDatagram(-1, {}, data, len);
  }
  void checkIdentity(const vl1::Identity& identity) override { checks.push_back(identity); }
  void onEvent(vl1::CoreEvent&& e) override { sink_ ^= e.data.size(); }
  uint64_t random64() override { return kCoreId; }

  std::vector<vl1::Identity> checks;

 private:
  uint64_t sink_ = 0;
};

struct Fixture {
  vl1::World plainPlanet;  // no roots: A is an ordinary peer
  vl1::World aPlanet;      // A is its only root
  vl1::World bPlanet;      // B is its only root
  vl1::InetAddress aAt, relayAt, bSeenAt;
  std::vector<uint8_t> hello;          // HELLO A->B (cipher 0, tail encrypted)
  std::vector<uint8_t> okHello;        // OK(HELLO) A->B answering the core's HELLO
  std::vector<uint8_t> networkConfig;  // V15
  std::vector<uint8_t> credentials;    // NETWORK_CREDENTIALS A->B: A's COM on kPrivateNetwork
};

const Fixture& fixture() {
  static const Fixture f = [] {
    const auto& ids = fuzz::pair();
    Fixture out;
    const uint8_t a[4] = {10, 0, 0, 1}, relay[4] = {10, 0, 0, 2}, b[4] = {203, 0, 113, 5};
    out.aAt = vl1::InetAddress::v4(a, 9993);
    out.relayAt = vl1::InetAddress::v4(relay, 9993);
    out.bSeenAt = vl1::InetAddress::v4(b, 40000);
    // Worlds need a signing key pair in the current.c25519 layout; the local planet's
    // signature is never checked, so A's keys serve.
    uint8_t signer[128];
    std::memcpy(signer, ids.a.publicKey().data(), 64);
    std::memcpy(signer + 64, ids.a.privateKey().data(), 64);
    out.plainPlanet = *vl1::World::make(vl1::World::Type::kPlanet, 1, 1, {}, signer);
    const vl1::WorldRoot aRoot{vl1::Identity(ids.a.address(), ids.a.publicKey()), {out.aAt}};
    out.aPlanet = *vl1::World::make(vl1::World::Type::kPlanet, 1, 1, {aRoot}, signer);
    const vl1::WorldRoot bRoot{vl1::Identity(ids.b.address(), ids.b.publicKey()), {out.bSeenAt}};
    out.bPlanet = *vl1::World::make(vl1::World::Type::kPlanet, 1, 1, {bRoot}, signer);

    std::vector<uint8_t>& h = out.hello;
    vl1::beginPacket(h, 0x0101010101010101, ids.b.address(), ids.a.address(), proto::Verb::kHello);
    util::Writer w(h);
    w.u8(proto::kProtocolVersion);
    w.u8(proto::kSoftwareMajor);
    w.u8(proto::kSoftwareMinor);
    w.u16(proto::kSoftwareRevision);
    w.u64(kStart);
    uint8_t id[vl1::kIdentityBinaryPublicLen];
    ids.a.toBinary(id, sizeof id, false);
    w.bytes(id, sizeof id);
    out.bSeenAt.write(w);
    w.u64(1);  // planet id and timestamp
    w.u64(1);
    const size_t tail = h.size();
    w.u16(0);  // no moons
    vl1::cryptHelloTail(h.data(), h.size(), tail, ids.key);
    vl1::armor(h.data(), h.size(), ids.key, proto::kCipherPoly1305None, false);

    std::vector<uint8_t>& ok = out.okHello;
    vl1::beginPacket(ok, 0x0202020202020202, ids.b.address(), ids.a.address(), proto::Verb::kOk);
    util::Writer o(ok);
    o.u8(static_cast<uint8_t>(proto::Verb::kHello));
    o.u64(kCoreId);
    o.u64(kStart);
    o.u8(proto::kProtocolVersion);
    o.u8(proto::kSoftwareMajor);
    o.u8(proto::kSoftwareMinor);
    o.u16(proto::kSoftwareRevision);
    out.bSeenAt.write(o);
    o.u16(0);  // no world update
    vl1::armor(ok.data(), ok.size(), ids.key, proto::kCipherPoly1305Salsa2012, false);

    // Issued like B's COM in V14 (same timestamp and max delta), so the two agree.
    vl2::NetworkCredentials creds;
    creds.coms.push_back(
        *vl2::CertificateOfMembership::issue(kPrivateNetwork, kStart, 1800000, ids.a, ids.a));
    const std::vector<uint8_t> credsPayload = creds.serialize();
    std::vector<uint8_t>& c = out.credentials;
    vl1::beginPacket(c, 0x0303030303030303, ids.b.address(), ids.a.address(),
                     proto::Verb::kNetworkCredentials);
    c.insert(c.end(), credsPayload.begin(), credsPayload.end());
    vl1::armor(c.data(), c.size(), ids.key, proto::kCipherPoly1305Salsa2012, false);

    const std::string_view config = fuzz::kNetworkConfigV15Hex;
    out.networkConfig.resize(config.size() / 2);
    ZTS_FUZZ_CHECK(util::decodeHex(config, out.networkConfig.data(), out.networkConfig.size()));
    return out;
  }();
  return f;
}

// What the engine thread does with the host's identity checks: here every one passes
// (the real proof costs a 2 MiB hash per identity, far too slow for fuzzing).
void answerChecks(vl1::NodeCore& core, Host& host, int64_t now) {
  for (int round = 0; round < 8 && !host.checks.empty(); ++round) {
    std::vector<vl1::Identity> checks = std::move(host.checks);
    host.checks.clear();
    for (const auto& id : checks) core.identityChecked(now, id, true);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& ids = fuzz::pair();
  const Fixture& f = fixture();
  const uint8_t mode = data[0];
  const auto verb = static_cast<proto::Verb>(mode & proto::kMaskVerb);
  const auto scenario = static_cast<Scenario>(mode & 0x60);
  const bool relayed = scenario == Scenario::kRelayed;
  const bool compressed = (mode & 0x80) != 0;

  Host host;
  vl1::CoreOptions options;
  options.identity = ids.b;
  options.planet = scenario == Scenario::kARoot   ? f.aPlanet
                   : scenario == Scenario::kBRoot ? f.bPlanet
                                                  : f.plainPlanet;
  options.root = scenario == Scenario::kBRoot;
  vl1::NodeCore core(std::move(options), host);
  int64_t now = kStart;
  core.start(now);

  // A introduces itself, then answers the HELLO the core sends back, so that A is a
  // known peer with a confirmed direct path.
  core.processDatagram(++now, 0, f.aAt, f.hello.data(), f.hello.size());
  answerChecks(core, host, now);
  core.processDatagram(++now, 0, f.aAt, f.okHello.data(), f.okHello.size());
  ZTS_FUZZ_CHECK(core.peer(ids.a.address()) != nullptr);
  core.join(now, kPrivateNetwork, &f.networkConfig);
  core.join(now, kAdhocNetwork);
  core.processDatagram(++now, 0, f.aAt, f.credentials.data(), f.credentials.size());
  // Guards the harness itself: without configs and A's membership, VL2 verbs stop early.
  const vl2::Network* privateNet = core.network(kPrivateNetwork);
  ZTS_FUZZ_CHECK(privateNet->config && privateNet->allows(ids.a.address(), ids.a));
  ZTS_FUZZ_CHECK(core.network(kAdhocNetwork)->config);
  // Queues an ECHO behind a WHOIS, which goes to A when A is the root.
  const uint8_t ping[4] = {'p', 'i', 'n', 'g'};
  core.sendEcho(now, kWhoisAbout, ping, sizeof ping);

  std::vector<uint8_t> p;
  vl1::beginPacket(p, kInputId, ids.b.address(), ids.a.address(), verb);
  p.insert(p.end(), data + 1, data + size);
  if (compressed) p[proto::kIdxVerb] |= proto::kVerbFlagCompressed;
  // HELLO is the one verb a node accepts unencrypted (its MAC proves the sender's key).
  const unsigned cipher =
      verb == proto::Verb::kHello ? proto::kCipherPoly1305None : proto::kCipherPoly1305Salsa2012;
  const size_t mtu = proto::kDefaultPhysicalMtu;
  vl1::armor(p.data(), p.size(), ids.key, cipher, p.size() > mtu);
  if (relayed) p[proto::kIdxFlags] |= 1;  // hop bits are outside the MAC
  const vl1::InetAddress& from = relayed ? f.relayAt : f.aAt;
  // Past the per-peer rate limits (250 ms at most) that the setup packets started.
  now += 1000;
  vl1::forEachDatagram(p.data(), p.size(), mtu, [&](const uint8_t* d, size_t n) {
    core.processDatagram(now, 0, from, d, n);
  });
  answerChecks(core, host, now);

  core.processDatagram(now, 0, f.aAt, data, size);
  answerChecks(core, host, now);
  core.processTimers(now + 1000);
  return 0;
}
