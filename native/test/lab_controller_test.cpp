#include "lab/controller.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "crypto/primitives.h"
#include "lab/rules_json.h"
#include "util/json.h"
#include "vl2/addresses.h"
#include "vl2/config_chunk.h"
#include "vl2/rules.h"
#include "vl2_test_vectors.h"

namespace zts {
namespace {

using lab::ConfigReply;
using lab::Controller;
using vl1::InetAddress;
using vl2::NetworkConfig;
namespace json = util::json;

// The stock controller's network, recreated under our controller A with the same number.
constexpr uint32_t kNumber = 0x4c870b;
constexpr int64_t kNow = 0x1a1fd85992c;  // `ts` of the stock client's config
const char* kStockCreateBody = R"({"name":"ztlab","private":true,
 "v4AssignMode":{"zt":true},"v6AssignMode":{"zt":false,"rfc4193":false,"6plane":false},
 "ipAssignmentPools":[{"ipRangeStart":"172.29.0.10","ipRangeEnd":"172.29.0.250"}],
 "routes":[{"target":"172.29.0.0/16","via":null}]})";

uint64_t nwidOf(const Controller& c, uint32_t number = kNumber) {
  return (c.address() << 24) | number;
}

// The settings of network-ed0bbf42fd4c870b.json.
lab::NetworkSettings stockSettings() {
  lab::NetworkSettings s;
  s.name = "ztlab";
  s.v4AssignZt = true;
  s.ipAssignmentPools.push_back({*lab::parseIp("172.29.0.10"), *lab::parseIp("172.29.0.250")});
  s.routes.push_back({*lab::parseCidr("172.29.0.0/16"), InetAddress(), 0, 0});
  return s;
}

// What a 1.14 member sends (§3.9): it announces a rules engine.
vl2::Dictionary metadata() {
  vl2::Dictionary d;
  d.addUInt("v", 7);
  d.addUInt("vend", 1);
  d.addUInt("pv", 12);
  d.addUInt("majv", 1);
  d.addUInt("minv", 14);
  d.addUInt("revv", 1);
  d.addUInt("revr", 1);
  return d;
}

// The controller identifies members by whatever identity the core learned; address proofs
// are the core's business, so tests may use made-up keys.
vl1::Identity fakeIdentity(uint64_t address) {
  vl1::PublicKey pub;
  crypto::randomBytes(pub.data(), pub.size());
  return vl1::Identity(address, pub);
}

// Verifies every chunk with the controller, reassembles and parses the config.
std::optional<NetworkConfig> decode(const ConfigReply& r, uint64_t nwid,
                                    const vl1::Identity& controller,
                                    std::vector<uint8_t>* dict = nullptr) {
  EXPECT_TRUE(r.ok());
  EXPECT_NE(r.updateId, 0u);
  vl2::ConfigAssembler assembler(nwid);
  std::optional<std::vector<uint8_t>> done;
  for (const auto& payload : r.chunks) {
    const auto chunk = vl2::ConfigChunk::parse(payload.data(), payload.size());
    if (!chunk || !chunk->verify(controller) || chunk->updateId != r.updateId) return std::nullopt;
    done = assembler.add(*chunk);
  }
  if (!done) return std::nullopt;
  if (dict != nullptr) *dict = *done;
  return NetworkConfig::parse(done->data(), done->size());
}

std::string ipOf(const NetworkConfig& c, size_t i = 0) {
  return i < c.staticIps.size() ? c.staticIps[i].toString() : "";
}

class LabController : public ::testing::Test {
 protected:
  LabController() : a_(test::identityA()), c_(a_), nwid_(nwidOf(c_)) {}

  void createStock() { ASSERT_EQ(c_.applyNetworkJson(nwid_, kStockCreateBody, kNow - 1000), ""); }
  std::string authorize(uint64_t address, const char* ip = nullptr) {
    const std::string body =
        ip == nullptr ? std::string(R"({"authorized":true})")
                      : std::string(R"({"authorized":true,"ipAssignments":[")") + ip + "\"]}";
    return c_.applyMemberJson(nwid_, address, body, kNow - 500);
  }
  NetworkConfig request(const vl1::Identity& member, int64_t now = kNow) {
    const auto r = c_.handleConfigRequest(now, member, nwid_, metadata());
    EXPECT_TRUE(r.ok());
    const auto c = decode(r, nwid_, a_);
    EXPECT_TRUE(c);
    return c.value_or(NetworkConfig());
  }

  vl1::Identity a_;
  Controller c_;
  uint64_t nwid_;
};

// The config for the stock client member equals the stock controller's, field for field,
// except what depends on the controller's key, the network id and the clock.
TEST_F(LabController, MatchesStockConfig) {
  createStock();
  for (const auto& [name, address, ip] : {std::tuple{"client", "8b83622530", "172.29.1.2"},
                                          std::tuple{"server", "1bde67c0ad", "172.29.1.1"}}) {
    SCOPED_TRACE(name);
    const auto member = test::stockMember(address);
    ASSERT_EQ(authorize(member.address(), ip), "");
    const auto reply = c_.handleConfigRequest(kNow, member, nwid_, metadata());
    std::vector<uint8_t> dict;
    const auto ours = decode(reply, nwid_, a_, &dict);
    ASSERT_TRUE(ours);
    EXPECT_EQ(ours->serialize(), reply.config.serialize());

    const auto stockBytes = test::readSharedFile(std::string("vectors/stock/controller/netconf/") +
                                                 name + "-" + address + ".ed0bbf42fd4c870b.conf");
    const auto stock = NetworkConfig::parse(stockBytes.data(), stockBytes.size());
    ASSERT_TRUE(stock);
    // Same keys in the same order.
    std::vector<std::string> ourKeys, stockKeys;
    const auto ourDict = vl2::Dictionary::parse(dict.data(), dict.size());
    const auto stockDict = vl2::Dictionary::parse(stockBytes.data(), stockBytes.size());
    for (const auto& [k, v] : ourDict.entries()) ourKeys.push_back(k);
    for (const auto& [k, v] : stockDict.entries()) stockKeys.push_back(k);
    EXPECT_EQ(ourKeys, stockKeys);

    EXPECT_TRUE(ours->isFor(nwid_, member.address()));
    EXPECT_EQ(ours->timestamp, static_cast<uint64_t>(kNow));
    EXPECT_EQ(ours->revision, stock->revision);
    EXPECT_EQ(ours->name, "ztlab");
    EXPECT_EQ(ours->mtu, stock->mtu);
    EXPECT_EQ(ours->flags, stock->flags);
    EXPECT_EQ(ours->multicastLimit, stock->multicastLimit);
    EXPECT_EQ(ours->type, stock->type);
    EXPECT_EQ(ours->credentialTimeMaxDelta, stock->credentialTimeMaxDelta);
    EXPECT_EQ(ours->routes, stock->routes);
    EXPECT_EQ(ours->staticIps, stock->staticIps);
    EXPECT_EQ(ipOf(*ours), std::string(ip) + "/16");
    EXPECT_EQ(ours->rules, stock->rules);
    EXPECT_EQ(ours->dns, stock->dns);

    // COM: the stock qualifiers, with the same identity-hash words for this member.
    ASSERT_TRUE(ours->com);
    EXPECT_TRUE(ours->com->verify(a_));
    const auto& q = ours->com->qualifiers();
    const auto& sq = stock->com->qualifiers();
    ASSERT_EQ(q.size(), sq.size());
    for (size_t i = 0; i < q.size(); ++i) {
      EXPECT_EQ(q[i].id, sq[i].id);
      EXPECT_EQ(q[i].maxDelta, sq[i].maxDelta);
      if (q[i].id >= vl2::CertificateOfMembership::kIdIssuedTo) EXPECT_EQ(q[i].value, sq[i].value);
    }
    EXPECT_EQ(ours->com->timestamp(), static_cast<uint64_t>(kNow));
    EXPECT_EQ(ours->com->networkId(), nwid_);

    // COO: one, id 1, flags 0, the static IP, signed by us.
    ASSERT_EQ(ours->coos.size(), 1u);
    const auto& coo = ours->coos[0];
    EXPECT_TRUE(coo.verify(a_));
    EXPECT_EQ(coo.id, stock->coos[0].id);
    EXPECT_EQ(coo.flags, stock->coos[0].flags);
    EXPECT_EQ(coo.things, stock->coos[0].things);
    EXPECT_EQ(coo.issuedTo, member.address());
    EXPECT_EQ(coo.timestamp, static_cast<uint64_t>(kNow));

    // With the controller-specific parts swapped in, the stock dictionary is ours byte for
    // byte.
    NetworkConfig expected = *stock;
    expected.networkId = nwid_;
    expected.timestamp = ours->timestamp;
    expected.com = ours->com;
    expected.coos = ours->coos;
    EXPECT_EQ(test::toHex(expected.serialize()), test::toHex(dict));
  }
}

TEST_F(LabController, MembersComsAgree) {
  createStock();
  const auto client = test::stockMember("8b83622530");
  const auto server = test::stockMember("1bde67c0ad");
  ASSERT_EQ(authorize(client.address()), "");
  ASSERT_EQ(authorize(server.address()), "");
  const auto cc = request(client);
  const auto sc = request(server, kNow + 60000);
  ASSERT_TRUE(cc.com && sc.com);
  EXPECT_TRUE(cc.com->agreesWith(*sc.com, server));
  EXPECT_TRUE(sc.com->agreesWith(*cc.com, client));
  EXPECT_FALSE(cc.com->agreesWith(*sc.com, client));  // not the holder's COM
  // Beyond the credential window they no longer agree.
  const auto late = request(server, kNow + 1800001);
  EXPECT_FALSE(cc.com->agreesWith(*late.com, server));
}

// The stock pool member 3efbf8193f was given 172.29.0.57 (api-requests.txt): same here.
TEST_F(LabController, PoolAssignmentMatchesStock) {
  createStock();
  const auto m = fakeIdentity(0x3efbf8193fULL);
  ASSERT_EQ(authorize(m.address()), "");
  const auto c = request(m);
  EXPECT_EQ(ipOf(c), "172.29.0.57/16");
  ASSERT_EQ(c.coos.size(), 1u);
  EXPECT_EQ(c.coos[0].things.size(), 1u);
  // Persisted: the member JSON shows it, and the next config keeps it.
  EXPECT_EQ(c_.member(nwid_, m.address())->settings.ipAssignments.size(), 1u);
  EXPECT_NE(c_.memberJson(nwid_, m.address()).find("\"172.29.0.57\""), std::string::npos);
  EXPECT_EQ(ipOf(request(m, kNow + 1)), "172.29.0.57/16");
}

TEST_F(LabController, UnknownNetworkIsNotFound) {
  const auto m = test::stockMember("8b83622530");
  auto r = c_.handleConfigRequest(kNow, m, nwid_, metadata());
  EXPECT_EQ(r.status, ConfigReply::Status::kNotFound);
  EXPECT_EQ(r.errorCode(), vl1::proto::ErrorCode::kObjectNotFound);
  EXPECT_TRUE(r.chunks.empty());
  createStock();
  // Another controller's network, even with our number.
  r = c_.handleConfigRequest(kNow, m, (0x1234567890ULL << 24) | kNumber, metadata());
  EXPECT_EQ(r.status, ConfigReply::Status::kNotFound);
  EXPECT_TRUE(c_.members(nwid_).empty());
}

TEST_F(LabController, UnauthorizedMemberIsRecorded) {
  createStock();
  const auto m = test::stockMember("0f17e50666");
  const auto r = c_.handleConfigRequest(kNow, m, nwid_, metadata());
  EXPECT_EQ(r.status, ConfigReply::Status::kAccessDenied);
  EXPECT_EQ(r.errorCode(), vl1::proto::ErrorCode::kNetworkAccessDenied);
  EXPECT_TRUE(r.chunks.empty());
  const auto* rec = c_.member(nwid_, m.address());
  ASSERT_NE(rec, nullptr);
  EXPECT_FALSE(rec->settings.authorized);
  EXPECT_TRUE(rec->settings.ipAssignments.empty());  // no IP for the unauthorised
  ASSERT_TRUE(rec->identity);
  EXPECT_TRUE(rec->identity->samePublic(m));
  EXPECT_FALSE(rec->identity->hasPrivate());
  EXPECT_EQ(rec->revision, 1u);
  EXPECT_EQ(rec->creationTime, kNow);

  // Its JSON has the stock member's fields, types and values.
  const auto ours = json::parse(c_.memberJson(nwid_, m.address()));
  const auto stock = json::parse(
      test::readSharedText("vectors/stock/controller/member-ed0bbf42fd4c870b-0f17e50666.json"));
  ASSERT_TRUE(ours && stock);
  for (const auto& [key, value] : stock->items()) {
    SCOPED_TRACE(key);
    const auto* v = json::find(*ours, key);
    ASSERT_NE(v, nullptr);
    EXPECT_STREQ(v->type_name(), value.type_name());  // signed or not: both "number"
    if (key == "nwid" || key == "creationTime" || key.rfind("v", 0) == 0) continue;
    EXPECT_EQ(json::write(*v), json::write(value));
  }
  EXPECT_EQ(json::exactInt(ours->at("vMajor")), 1);  // we note what the member runs
  EXPECT_EQ(json::exactInt(ours->at("vProto")), 12);

  // Authorised later, it gets an address from the pool on its next request.
  ASSERT_EQ(authorize(m.address()), "");
  const auto c = request(m, kNow + 60000);
  EXPECT_TRUE(c.isFor(nwid_, m.address()));
  EXPECT_EQ(c.staticIps.size(), 1u);
}

TEST_F(LabController, PublicNetworkAdmitsAnyone) {
  auto s = stockSettings();
  s.isPrivate = false;
  ASSERT_EQ(c_.createNetwork(kNumber, s, kNow), "");
  const auto m = fakeIdentity(0x0102030405ULL);
  const auto c = request(m);
  EXPECT_FALSE(c.isPrivate());
  EXPECT_EQ(static_cast<uint64_t>(c.type), 1u);
  EXPECT_TRUE(c.com);
  const auto* rec = c_.member(nwid_, m.address());
  ASSERT_NE(rec, nullptr);
  EXPECT_TRUE(rec->settings.authorized);
  EXPECT_EQ(rec->lastAuthorizedCredentialType, "public");
  EXPECT_EQ(rec->lastAuthorizedTime, kNow);
  // Deauthorising does not keep anyone off a public network.
  ASSERT_EQ(c_.applyMemberJson(nwid_, m.address(), R"({"authorized":false})", kNow), "");
  EXPECT_TRUE(c_.handleConfigRequest(kNow, m, nwid_, metadata()).ok());
}

TEST_F(LabController, IdentityCollisionRefused) {
  createStock();
  const auto real = test::stockMember("8b83622530");
  ASSERT_EQ(authorize(real.address()), "");
  request(real);
  const auto impostor = fakeIdentity(real.address());
  const auto r = c_.handleConfigRequest(kNow, impostor, nwid_, metadata());
  EXPECT_EQ(r.status, ConfigReply::Status::kAccessDenied);
  EXPECT_TRUE(c_.member(nwid_, real.address())->identity->samePublic(real));
  EXPECT_TRUE(c_.handleConfigRequest(kNow, real, nwid_, metadata()).ok());
}

TEST_F(LabController, AssignmentIsUniqueAndRouted) {
  auto s = stockSettings();
  s.ipAssignmentPools = {{*lab::parseIp("172.29.0.10"), *lab::parseIp("172.29.3.250")}};
  ASSERT_EQ(c_.createNetwork(kNumber, s, kNow), "");
  std::set<std::string> seen;
  for (uint64_t i = 0; i < 200; ++i) {
    // Addresses that share their low 32 bits mod the pool size collide on purpose.
    const uint64_t address = 0x1000000000ULL + (i % 2 == 0 ? i : i * 0x2f5ULL);
    ASSERT_EQ(authorize(address), "");
    const auto c = request(fakeIdentity(address));
    ASSERT_EQ(c.staticIps.size(), 1u);
    const auto ip = c.staticIps[0];
    EXPECT_EQ(ip.port(), 16);
    EXPECT_NE(ip.ip()[3], 0);
    EXPECT_NE(ip.ip()[3], 255);
    EXPECT_TRUE(lab::cidrContains(s.routes[0].target, ip));
    EXPECT_TRUE(seen.insert(ip.ipString()).second) << ip.ipString();
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST_F(LabController, AssignmentIsDeterministic) {
  // Same member, fresh controllers: same address, start + (address mod (end - start)).
  for (int round = 0; round < 2; ++round) {
    Controller c(a_);
    ASSERT_EQ(c.createNetwork(kNumber, stockSettings(), kNow), "");
    const uint64_t address = 0x0a0b0c0d0eULL;
    ASSERT_EQ(c.applyMemberJson(nwid_, address, R"({"authorized":true})", kNow), "");
    const auto r = c.handleConfigRequest(kNow, fakeIdentity(address), nwid_, metadata());
    const auto conf = decode(r, nwid_, a_);
    ASSERT_TRUE(conf);
    EXPECT_EQ(ipOf(*conf), "172.29.0." + std::to_string(10 + (address & 0xffffffff) % 240) + "/16");
  }
}

TEST_F(LabController, AssignmentRespectsRoutesAndSkipsBroadcast) {
  auto s = stockSettings();
  // Only 10.0.1.0/24 is routed, so 10.0.1.1 .. 10.0.1.254 are all there is.
  s.ipAssignmentPools = {{*lab::parseIp("10.0.0.0"), *lab::parseIp("10.0.3.255")}};
  s.routes = {{*lab::parseCidr("10.0.1.0/24"), InetAddress(), 0, 0},
              {*lab::parseCidr("0.0.0.0/0"), *lab::parseIp("10.0.1.1"), 0, 0}};
  ASSERT_EQ(c_.createNetwork(kNumber, s, kNow), "");
  std::set<std::string> seen;
  size_t without = 0;
  for (uint64_t i = 0; i < 256; ++i) {
    const uint64_t address = 0x2000000000ULL + i * 7919;
    ASSERT_EQ(authorize(address), "");
    const auto c = request(fakeIdentity(address));
    if (c.staticIps.empty()) {
      ++without;
      continue;
    }
    const auto ip = c.staticIps[0].toString();
    EXPECT_EQ(ip.rfind("10.0.1.", 0), 0u) << ip;
    EXPECT_EQ(c.staticIps[0].port(), 24);  // the on-link route, not the default route
    EXPECT_NE(ip, "10.0.1.0/24");
    EXPECT_NE(ip, "10.0.1.255/24");
    EXPECT_TRUE(seen.insert(ip).second);
  }
  EXPECT_EQ(seen.size(), 254u);
  EXPECT_EQ(without, 2u);
}

TEST_F(LabController, ExplicitAssignmentWins) {
  createStock();
  const auto m = fakeIdentity(0x3efbf8193fULL);
  // An explicit IP inside the pool's walk start: taken as is, no pool address added.
  ASSERT_EQ(authorize(m.address(), "172.29.9.9"), "");
  auto c = request(m);
  ASSERT_EQ(c.staticIps.size(), 1u);
  EXPECT_EQ(ipOf(c), "172.29.9.9/16");
  // Outside every route: sent with a host prefix.
  ASSERT_EQ(authorize(m.address(), "192.168.7.7"), "");
  EXPECT_EQ(ipOf(request(m)), "192.168.7.7/32");
  // noAutoAssignIps: no address at all.
  const auto n = fakeIdentity(0x4444444444ULL);
  ASSERT_EQ(
      c_.applyMemberJson(nwid_, n.address(), R"({"authorized":true,"noAutoAssignIps":true})", kNow),
      "");
  c = request(n);
  EXPECT_TRUE(c.staticIps.empty());
  EXPECT_TRUE(c.coos.empty());
  // Another member's explicit IP is never handed out by the pool.
  ASSERT_EQ(authorize(0x5555555555ULL, "172.29.0.57"), "");
  ASSERT_EQ(c_.deleteMember(nwid_, m.address()), true);
  ASSERT_EQ(authorize(m.address()), "");
  EXPECT_EQ(ipOf(request(m)), "172.29.0.58/16");
}

TEST_F(LabController, ManagedIpv6) {
  auto s = stockSettings();
  s.v6AssignRfc4193 = true;
  s.v6AssignSixPlane = true;
  s.v6AssignZt = true;
  s.ipAssignmentPools.push_back({*lab::parseIp("fd00::"), *lab::parseIp("fd00::ffff:ffff:ffff")});
  s.routes.push_back({*lab::parseCidr("fd00::/64"), InetAddress(), 0, 0});
  ASSERT_EQ(c_.createNetwork(kNumber, s, kNow), "");
  const auto m = fakeIdentity(0x3efbf8193fULL);
  ASSERT_EQ(authorize(m.address()), "");
  const auto c = request(m);
  EXPECT_TRUE(c.ndpEmulation());
  EXPECT_TRUE(c.enableBroadcast());
  std::set<std::string> ips;
  for (const auto& a : c.staticIps) ips.insert(a.toString());
  EXPECT_TRUE(ips.count("172.29.0.57/16"));
  EXPECT_TRUE(ips.count(vl2::rfc4193Address(nwid_, m.address()).toString()));
  EXPECT_TRUE(ips.count(vl2::sixPlaneAddress(nwid_, m.address()).toString()));
  EXPECT_TRUE(ips.count("fd00::3e:fbf8:193f/64"));  // pool of 2^48: start + address
  ASSERT_EQ(c.coos.size(), 1u);
  EXPECT_EQ(c.coos[0].things.size(), 4u);
}

TEST_F(LabController, RulesFollowTheMembersEngine) {
  auto s = stockSettings();
  s.rules = vl2::serializeRules({vl2::ethertypeRule(0x0800, true),
                                 vl2::actionRule(vl2::RuleType::kActionDrop),
                                 vl2::actionRule(vl2::RuleType::kActionAccept)});
  ASSERT_EQ(c_.createNetwork(kNumber, s, kNow), "");
  const auto m = fakeIdentity(0x0102030405ULL);
  ASSERT_EQ(authorize(m.address()), "");
  EXPECT_EQ(request(m).rules, s.rules);
  // Without `revr` the member gets the single ACCEPT, as from stock.
  const auto r = c_.handleConfigRequest(kNow, m, nwid_, vl2::Dictionary());
  const auto c = decode(r, nwid_, a_);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->rules, (std::vector<uint8_t>{0x01, 0x00}));
}

TEST_F(LabController, LargeConfigSpansChunks) {
  auto s = stockSettings();
  std::vector<vl2::Rule> rules;
  for (int i = 0; i < 1000; ++i) {
    uint8_t ip[16] = {0xfd,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      static_cast<uint8_t>(i >> 8),
                      static_cast<uint8_t>(i)};
    rules.push_back(vl2::ipv6Rule(vl2::RuleType::kMatchIpv6Dest, ip, 128, true));
  }
  rules.push_back(vl2::actionRule(vl2::RuleType::kActionAccept));
  s.rules = vl2::serializeRules(rules);
  ASSERT_EQ(c_.createNetwork(kNumber, s, kNow), "");
  const auto m = fakeIdentity(0x0102030405ULL);
  ASSERT_EQ(authorize(m.address()), "");
  const auto r = c_.handleConfigRequest(kNow, m, nwid_, metadata());
  EXPECT_GT(r.chunks.size(), 1u);
  const auto c = decode(r, nwid_, a_);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->rules, s.rules);
}

TEST_F(LabController, RefreshAfterChanges) {
  createStock();
  const auto client = test::stockMember("8b83622530");
  const auto server = test::stockMember("1bde67c0ad");
  const auto waiting = test::stockMember("0f17e50666");
  ASSERT_EQ(authorize(client.address()), "");
  ASSERT_EQ(authorize(server.address()), "");
  ASSERT_EQ(authorize(0x5555555555ULL), "");  // authorised but never asked: not listed
  request(client);
  request(server);
  EXPECT_EQ(c_.handleConfigRequest(kNow, waiting, nwid_, metadata()).status,
            ConfigReply::Status::kAccessDenied);
  EXPECT_TRUE(c_.membersToRefresh(nwid_).empty());
  // A no-op POST changes nothing.
  ASSERT_EQ(authorize(client.address()), "");
  EXPECT_TRUE(c_.membersToRefresh(nwid_).empty());

  // Deauthorised: told it lost access, once.
  ASSERT_EQ(c_.applyMemberJson(nwid_, client.address(), R"({"authorized":false})", kNow), "");
  EXPECT_EQ(c_.membersToRefresh(nwid_), std::vector<uint64_t>{client.address()});
  EXPECT_EQ(c_.configFor(kNow, nwid_, client.address()).status, ConfigReply::Status::kAccessDenied);
  EXPECT_TRUE(c_.membersToRefresh(nwid_).empty());

  // The waiting member is authorised: it gets its config pushed, with a pool address.
  ASSERT_EQ(authorize(waiting.address()), "");
  EXPECT_EQ(c_.membersToRefresh(nwid_), std::vector<uint64_t>{waiting.address()});
  auto r = c_.configFor(kNow, nwid_, waiting.address());
  auto c = decode(r, nwid_, a_);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->isFor(nwid_, waiting.address()));
  EXPECT_EQ(c->staticIps.size(), 1u);
  EXPECT_TRUE(c_.membersToRefresh(nwid_).empty());

  // A network change concerns everyone who holds a config; its revision goes out as `r`.
  ASSERT_EQ(c_.applyNetworkJson(nwid_, R"({"mtu":1400})", kNow), "");
  EXPECT_EQ(c_.membersToRefresh(nwid_),
            (std::vector<uint64_t>{waiting.address(), server.address()}));
  c = decode(c_.configFor(kNow, nwid_, server.address()), nwid_, a_);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->mtu, 1400u);
  EXPECT_EQ(c->revision, 2u);

  // A new active bridge changes everyone's `S` list.
  request(waiting);
  ASSERT_EQ(c_.applyMemberJson(nwid_, server.address(), R"({"activeBridge":true})", kNow), "");
  EXPECT_EQ(c_.membersToRefresh(nwid_),
            (std::vector<uint64_t>{waiting.address(), server.address()}));
  c = decode(c_.configFor(kNow, nwid_, waiting.address()), nwid_, a_);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->specialists.size(), 1u);
  EXPECT_EQ(c->specialists[0].address(), server.address());
  EXPECT_EQ(c->specialists[0].raw & vl2::Specialist::kActiveBridge, vl2::Specialist::kActiveBridge);
  request(server);

  // Deleted while holding a config: told once.
  ASSERT_TRUE(c_.deleteMember(nwid_, waiting.address()));
  EXPECT_EQ(c_.member(nwid_, waiting.address()), nullptr);
  EXPECT_EQ(c_.membersToRefresh(nwid_), std::vector<uint64_t>{waiting.address()});
  EXPECT_EQ(c_.configFor(kNow, nwid_, waiting.address()).status,
            ConfigReply::Status::kAccessDenied);
  EXPECT_TRUE(c_.membersToRefresh(nwid_).empty());
  // If it asks again it is recorded afresh, unauthorised.
  EXPECT_EQ(c_.handleConfigRequest(kNow, waiting, nwid_, metadata()).status,
            ConfigReply::Status::kAccessDenied);
  EXPECT_FALSE(c_.member(nwid_, waiting.address())->settings.authorized);
  EXPECT_EQ(c_.configFor(kNow, nwid_ + 1, waiting.address()).status,
            ConfigReply::Status::kNotFound);
}

TEST_F(LabController, NetworkJsonHasStockShape) {
  createStock();
  const auto* n = c_.network(nwid_);
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->revision, 1u);
  EXPECT_EQ(n->settings, stockSettings());
  const auto ours = json::parse(c_.networkJson(nwid_));
  const auto stock =
      json::parse(test::readSharedText("vectors/stock/controller/network-ed0bbf42fd4c870b.json"));
  ASSERT_TRUE(ours && stock);
  for (const auto& [key, value] : stock->items()) {
    SCOPED_TRACE(key);
    const auto* v = json::find(*ours, key);
    ASSERT_NE(v, nullptr);
    EXPECT_STREQ(v->type_name(), value.type_name());  // signed or not: both "number"
    if (key == "id" || key == "nwid" || key == "creationTime" || key == "authTokens") continue;
    EXPECT_EQ(json::write(*v), json::write(value));  // same values, same member order
  }
  EXPECT_EQ(json::stringOr(json::find(*ours, "id")), lab::nwidToString(nwid_));
  EXPECT_EQ(c_.networksJson(), "[\n  \"" + lab::nwidToString(nwid_) + "\"\n]");
}

// "dns" in the stock shape: `[]` until set, then {"domain", "servers"}; the config carries it
// as the `DNS` blob, and a change reaches every member.
TEST_F(LabController, DnsSettingInJsonAndConfig) {
  createStock();
  const auto m = fakeIdentity(0x1122334455ULL);
  ASSERT_EQ(authorize(m.address()), "");
  EXPECT_EQ(request(m).dns, vl2::DnsConfig());
  EXPECT_TRUE(json::find(*json::parse(c_.networkJson(nwid_)), "dns")->is_array());

  ASSERT_EQ(c_.applyNetworkJson(
                nwid_, R"({"dns":{"domain":"ztlab.home.arpa","servers":["172.29.0.1","fd00::1"]}})",
                kNow),
            "");
  EXPECT_EQ(c_.membersToRefresh(nwid_), std::vector<uint64_t>{m.address()});
  const auto cfg = request(m);
  EXPECT_EQ(cfg.dns.domain, "ztlab.home.arpa");
  ASSERT_EQ(cfg.dns.servers.size(), 2u);
  EXPECT_EQ(cfg.dns.servers[0].ipString(), "172.29.0.1");
  EXPECT_EQ(cfg.dns.servers[1].ipString(), "fd00::1");
  const auto net = json::parse(c_.networkJson(nwid_));
  EXPECT_EQ(json::write(*json::find(*net, "dns")),
            R"({"domain":"ztlab.home.arpa","servers":["172.29.0.1","fd00::1"]})");

  // Bad values change nothing.
  for (
      const char* body :
      {R"({"dns":"x"})", R"({"dns":{"domain":5}})", R"({"dns":{"servers":["nope"]}})",
       R"({"dns":{"domain":"a","servers":["1.1.1.1","1.1.1.2","1.1.1.3","1.1.1.4","1.1.1.5"]}})"}) {
    SCOPED_TRACE(body);
    EXPECT_NE(c_.applyNetworkJson(nwid_, body, kNow), "");
  }
  EXPECT_NE(
      c_.applyNetworkJson(nwid_, "{\"dns\":{\"domain\":\"" + std::string(128, 'a') + "\"}}", kNow),
      "");
  EXPECT_EQ(request(m).dns.domain, "ztlab.home.arpa");

  // The stock default clears it; the saved state keeps it.
  Controller other(a_);
  ASSERT_TRUE(other.loadState(c_.saveState()));
  EXPECT_EQ(other.network(nwid_)->settings.dns, c_.network(nwid_)->settings.dns);
  ASSERT_EQ(c_.applyNetworkJson(nwid_, R"({"dns":[]})", kNow), "");
  EXPECT_EQ(request(m).dns, vl2::DnsConfig());
}

TEST_F(LabController, JsonRoundTrips) {
  createStock();
  ASSERT_EQ(c_.applyNetworkJson(nwid_, R"({
    "v6AssignMode": {"rfc4193": true},
    "multicastLimit": 0, "enableBroadcast": false, "private": false,
    "routes": [{"target": "172.29.0.0/16", "via": null},
               {"target": "0.0.0.0/0", "via": "172.29.0.1"},
               {"target": "fd00::/8", "via": null}],
    "rules": [{"type": "MATCH_ETHERTYPE", "etherType": 2048, "not": true, "or": false},
              {"type": "MATCH_ETHERTYPE", "etherType": 2054, "not": true},
              {"type": "ACTION_DROP"},
              {"type": "MATCH_IPV4_DEST", "ip": "224.0.0.251/32", "not": false, "or": false},
              {"type": "MATCH_IP_DEST_PORT_RANGE", "start": 5353, "end": 5353, "or": true},
              {"type": "MATCH_IP_PROTOCOL", "ipProtocol": 17},
              {"type": "MATCH_MAC_SOURCE", "mac": "01:00:5E:00:00:FB"},
              {"type": "MATCH_SOURCE_ZEROTIER_ADDRESS", "zt": "8b83622530"},
              {"type": "MATCH_IPV6_SOURCE", "ip": "fd00::/8"},
              {"type": "MATCH_FRAME_SIZE_RANGE", "start": 0, "end": 1500},
              {"type": "ACTION_BREAK"},
              {"type": "ACTION_ACCEPT"}],
    "unknownField": {"ignored": [1, 2, 3]}
  })",
                                kNow),
            "");
  // An ICMP match has no JSON form of ours: it goes out as RAW and comes back exact.
  auto s = c_.network(nwid_)->settings;
  auto rules = *vl2::parseRules(s.rules.data(), s.rules.size());
  rules.insert(rules.begin(), vl2::icmpRule(8, std::nullopt));
  s.rules = vl2::serializeRules(rules);
  ASSERT_EQ(c_.updateNetwork(nwid_, s), "");
  EXPECT_EQ(c_.network(nwid_)->revision, 3u);
  const std::string netJson = c_.networkJson(nwid_);
  EXPECT_NE(netJson.find("\"RAW\""), std::string::npos);
  EXPECT_NE(netJson.find("\"mac\": \"01:00:5e:00:00:fb\""), std::string::npos);

  ASSERT_EQ(c_.applyMemberJson(nwid_, 0x8b83622530ULL, R"({"authorized":true,
    "ipAssignments":["172.29.1.2","fd00::1"],"activeBridge":true,"name":"caf\u00e9 \"x\"",
    "noAutoAssignIps":true})",
                               kNow),
            "");
  const std::string memJson = c_.memberJson(nwid_, 0x8b83622530ULL);

  // Posting the JSON we wrote to a fresh controller reproduces the same objects.
  Controller other(a_);
  ASSERT_EQ(other.applyNetworkJson(nwid_, netJson, kNow - 1000), "");
  EXPECT_EQ(other.network(nwid_)->settings, c_.network(nwid_)->settings);
  ASSERT_EQ(other.applyMemberJson(nwid_, 0x8b83622530ULL, memJson, kNow), "");
  EXPECT_EQ(other.member(nwid_, 0x8b83622530ULL)->settings,
            c_.member(nwid_, 0x8b83622530ULL)->settings);
  EXPECT_EQ(other.member(nwid_, 0x8b83622530ULL)->settings.name, "caf\xc3\xa9 \"x\"");
  EXPECT_EQ(other.memberJson(nwid_, 0x8b83622530ULL), memJson);

  // A random network number through the create call.
  uint64_t created = 0;
  ASSERT_EQ(c_.createNetworkJson(R"({"name":"second"})", kNow, &created), "");
  EXPECT_EQ(created >> 24, c_.address());
  EXPECT_NE(created, nwid_);
  EXPECT_EQ(c_.network(created)->settings.name, "second");
  EXPECT_EQ(c_.network(created)->revision, 1u);
  EXPECT_EQ(c_.networks().size(), 2u);
  EXPECT_TRUE(c_.deleteNetwork(created));
  EXPECT_FALSE(c_.deleteNetwork(created));
}

TEST_F(LabController, BadInputChangesNothing) {
  createStock();
  ASSERT_EQ(authorize(0x8b83622530ULL, "172.29.1.2"), "");
  const std::string net = c_.networkJson(nwid_);
  const std::string mem = c_.memberJson(nwid_, 0x8b83622530ULL);
  for (const char* body : {
           "{bad json",
           "[]",
           "\"authorized\"",
           R"({"authorized":"yes"})",
           R"({"authorized":1})",
           R"({"authorized":false,"ipAssignments":"172.29.1.3"})",
           R"({"authorized":false,"ipAssignments":["300.1.1.1"]})",
           R"({"authorized":false,"ipAssignments":["172.29.1.3/16"]})",
           R"({"authorized":false,"ipAssignments":[17]})",
           R"({"authorized":false,"ipAssignments":["172.29.1.3","172.29.1.3"]})",
           R"({"authorized":false,"activeBridge":null})",
           R"({"name":5})",
       }) {
    SCOPED_TRACE(body);
    EXPECT_NE(c_.applyMemberJson(nwid_, 0x8b83622530ULL, body, kNow), "");
  }
  EXPECT_EQ(c_.memberJson(nwid_, 0x8b83622530ULL), mem);
  for (const char* body : {
           "{\"name\":\"x\"",
           R"({"private":1})",
           R"({"mtu":100})",
           R"({"mtu":2800.5})",
           R"({"mtu":4294969096})",
           R"({"mtu":"2800"})",
           R"({"multicastLimit":-1})",
           R"({"name":"x","v4AssignMode":true})",
           R"({"v6AssignMode":{"6plane":"on"}})",
           R"({"ipAssignmentPools":[{"ipRangeStart":"172.29.0.250","ipRangeEnd":"172.29.0.10"}]})",
           R"({"ipAssignmentPools":[{"ipRangeStart":"172.29.0.1","ipRangeEnd":"fd00::1"}]})",
           R"({"ipAssignmentPools":[{"ipRangeStart":"172.29.0.1"}]})",
           R"({"ipAssignmentPools":{}})",
           R"({"routes":[{"target":"172.29.0.0/33","via":null}]})",
           R"({"routes":[{"target":"172.29.0.0","via":null}]})",
           R"({"routes":[{"target":"172.29.0.0/16","via":"fd00::1"}]})",
           R"({"routes":[{"target":"172.29.0.0/16","via":5}]})",
           R"({"rules":[{"type":"MATCH_NOTHING"}]})",
           R"({"rules":[{"type":"MATCH_ETHERTYPE","etherType":70000}]})",
           R"({"rules":[{"type":"MATCH_IP_DEST_PORT_RANGE","start":9,"end":1}]})",
           R"({"rules":[{"type":"RAW","raw":"0102"}]})",
           R"({"rules":{"type":"ACTION_ACCEPT"}})",
           R"({"name":"ok","credentialTimeMaxDelta":1000})",
       }) {
    SCOPED_TRACE(body);
    EXPECT_NE(c_.applyNetworkJson(nwid_, body, kNow), "");
  }
  EXPECT_EQ(c_.networkJson(nwid_), net);
  // Nothing is created by a refused POST either.
  const uint64_t fresh = nwidOf(c_, 0x000001);
  EXPECT_NE(c_.applyNetworkJson(fresh, R"({"mtu":1})", kNow), "");
  EXPECT_EQ(c_.network(fresh), nullptr);
  EXPECT_NE(c_.applyMemberJson(nwid_, 0x0f17e50666ULL, R"({"authorized":"yes"})", kNow), "");
  EXPECT_EQ(c_.member(nwid_, 0x0f17e50666ULL), nullptr);
  // Another controller's network cannot be created here.
  EXPECT_NE(c_.applyNetworkJson(0x1234567890000001ULL, "{}", kNow), "");
  EXPECT_NE(c_.applyMemberJson(nwid_ + 1, 0x8b83622530ULL, "{}", kNow), "");
}

TEST_F(LabController, Validation) {
  EXPECT_EQ(lab::parseMemberAddress("8b83622530"), 0x8b83622530ULL);
  EXPECT_EQ(lab::parseMemberAddress("8B83622530"), 0x8b83622530ULL);
  EXPECT_FALSE(lab::parseMemberAddress("8b8362253"));
  EXPECT_FALSE(lab::parseMemberAddress("8b836225300"));
  EXPECT_FALSE(lab::parseMemberAddress("ff83622530"));  // reserved
  EXPECT_FALSE(lab::parseMemberAddress("0000000000"));
  EXPECT_FALSE(lab::parseMemberAddress("8b8362253g"));
  EXPECT_EQ(lab::parseNwid("ed0bbf42fd4c870b"), 0xed0bbf42fd4c870bULL);
  EXPECT_FALSE(lab::parseNwid("ed0bbf42fd______"));
  EXPECT_FALSE(lab::parseIp("1.2.3.4/8"));
  EXPECT_FALSE(lab::parseIp("1.2.3.4:80"));
  EXPECT_FALSE(lab::parseIp(std::string_view("1.2.3.4\0x", 9)));
  EXPECT_FALSE(lab::parseCidr("1.2.3.4/"));
  EXPECT_FALSE(lab::parseCidr("1.2.3.4/-1"));
  EXPECT_FALSE(lab::parseCidr("::/129"));
  EXPECT_EQ(lab::parseCidr("fd00::/8")->toString(), "fd00::/8");

  createStock();
  EXPECT_NE(c_.createNetwork(kNumber, stockSettings(), kNow), "");  // exists
  EXPECT_NE(c_.createNetwork(0x1000000, stockSettings(), kNow), "");
  EXPECT_NE(c_.setMember(nwid_, 0xff00000001ULL, {}, kNow), "");
  EXPECT_NE(c_.setMember(nwid_, 0, {}, kNow), "");
  EXPECT_NE(c_.setMember(nwid_ + 1, 0x0102030405ULL, {}, kNow), "");
  lab::MemberSettings many;
  for (int i = 1; i <= 15; ++i)
    many.ipAssignments.push_back(*lab::parseIp("10.0.0." + std::to_string(i)));
  EXPECT_NE(c_.setMember(nwid_, 0x0102030405ULL, many, kNow), "");
  EXPECT_TRUE(c_.members(nwid_).empty());
  auto s = stockSettings();
  s.rules = {0x01};  // truncated rule
  EXPECT_NE(c_.updateNetwork(nwid_, s), "");
  EXPECT_EQ(c_.network(nwid_)->revision, 1u);
}

TEST_F(LabController, StateRoundTrip) {
  createStock();
  ASSERT_EQ(c_.applyNetworkJson(nwidOf(c_, 7), R"({"name":"other","private":false})", kNow), "");
  const auto client = test::stockMember("8b83622530");
  const auto pool = fakeIdentity(0x3efbf8193fULL);
  ASSERT_EQ(authorize(client.address(), "172.29.1.2"), "");
  ASSERT_EQ(authorize(pool.address()), "");
  request(client);
  EXPECT_EQ(ipOf(request(pool)), "172.29.0.57/16");
  c_.handleConfigRequest(kNow, test::stockMember("0f17e50666"), nwid_, metadata());
  const std::string state = c_.saveState();

  Controller restored(a_);
  std::string err;
  ASSERT_TRUE(restored.loadState(state, &err)) << err;
  EXPECT_EQ(restored.saveState(), state);
  EXPECT_EQ(restored.networks(), c_.networks());
  EXPECT_EQ(restored.networkJson(nwid_), c_.networkJson(nwid_));
  for (const auto a : c_.members(nwid_)) {
    EXPECT_EQ(restored.memberJson(nwid_, a), c_.memberJson(nwid_, a));
  }
  // Addresses, identities and authorisation survive the restart.
  const auto r = restored.handleConfigRequest(kNow + 1, pool, nwid_, metadata());
  const auto c = decode(r, nwid_, a_);
  ASSERT_TRUE(c);
  EXPECT_EQ(ipOf(*c), "172.29.0.57/16");
  EXPECT_EQ(
      restored.handleConfigRequest(kNow, fakeIdentity(client.address()), nwid_, metadata()).status,
      ConfigReply::Status::kAccessDenied);
  EXPECT_EQ(
      restored.handleConfigRequest(kNow, test::stockMember("0f17e50666"), nwid_, metadata()).status,
      ConfigReply::Status::kAccessDenied);

  // Another controller's state, or a damaged one, is refused and changes nothing.
  Controller stranger(test::identityB());
  EXPECT_FALSE(stranger.loadState(state, &err));
  EXPECT_FALSE(err.empty());
  EXPECT_TRUE(stranger.networks().empty());
  std::string damaged = state;
  damaged.replace(damaged.find("\"172.29.1.2\""), 12, "\"172.29.1.x\"");
  EXPECT_FALSE(restored.loadState(damaged));
  EXPECT_FALSE(restored.loadState("{}"));
  EXPECT_FALSE(restored.loadState(state.substr(0, state.size() / 2)));
  EXPECT_EQ(restored.saveState(), state);
  // An empty controller saves and loads too.
  Controller empty(a_);
  EXPECT_TRUE(restored.loadState(empty.saveState()));
  EXPECT_TRUE(restored.networks().empty());
}

// Damaged POST bodies and state files never crash, and a refused one changes nothing.
TEST_F(LabController, SurvivesDamagedJson) {
  createStock();
  ASSERT_EQ(authorize(0x8b83622530ULL, "172.29.1.2"), "");
  const std::string net = c_.networkJson(nwid_);
  const std::string mem = c_.memberJson(nwid_, 0x8b83622530ULL);
  const std::string state = c_.saveState();
  std::mt19937 rng(11);
  const auto damage = [&](const std::string& good) {
    std::string s = good.substr(0, rng() % (good.size() + 1));
    for (int k = 1 + rng() % 3; k > 0 && !s.empty(); --k)
      s[rng() % s.size()] = "{}[],:\"0a-"[rng() % 11];
    return s;
  };
  for (int i = 0; i < 300; ++i) {
    Controller scratch(a_);
    ASSERT_TRUE(scratch.loadState(state));
    if (!scratch.applyNetworkJson(nwid_, damage(net), kNow).empty()) {
      EXPECT_EQ(scratch.networkJson(nwid_), net);
    }
    if (!scratch.applyMemberJson(nwid_, 0x8b83622530ULL, damage(mem), kNow).empty()) {
      EXPECT_EQ(scratch.memberJson(nwid_, 0x8b83622530ULL), mem);
    }
    const std::string before = scratch.saveState();
    if (!scratch.loadState(damage(state))) EXPECT_EQ(scratch.saveState(), before);
  }
}

TEST(LabControllerNoKey, AnswersNotFound) {
  const auto a = test::identityA();
  Controller c(vl1::Identity(a.address(), a.publicKey()));
  ASSERT_EQ(c.createNetwork(1, lab::NetworkSettings(), kNow), "");
  EXPECT_EQ(c.handleConfigRequest(kNow, test::identityB(), nwidOf(c, 1), metadata()).status,
            ConfigReply::Status::kNotFound);
}

// Found by rules_json_fuzz: tables that parse but whose named JSON form would be refused on
// the way back (a port range backwards, a prefix longer than the address) go out as RAW.
TEST(LabRulesJson, InexpressibleValuesRoundTripAsRaw) {
  const std::vector<std::vector<uint8_t>> tables = {
      {0x28, 0x04, 0x00, 0x80, 0x00, 0x00, 0x01, 0x00},              // dest ports 128..0
      {0x20, 0x05, 10, 0, 0, 0, 40, 0x01, 0x00},                     // IPv4 /40
      {0x2a, 0x04, 0x05, 0xdc, 0x00, 0x40, 0x28, 0x04, 0, 1, 0, 1},  // frame size backwards
  };
  for (const auto& rules : tables) {
    ASSERT_TRUE(vl2::parseRules(rules.data(), rules.size()));
    const auto json = lab::rulesToJson(rules);
    EXPECT_EQ(json[0]["type"], "RAW") << util::json::write(json);
    std::vector<uint8_t> back;
    EXPECT_EQ(lab::rulesFromJson(json, back), "");
    EXPECT_EQ(back, rules);
  }
}

}  // namespace
}  // namespace zts
