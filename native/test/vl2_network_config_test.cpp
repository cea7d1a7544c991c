#include <gtest/gtest.h>

#include <string>

#include "test_support.h"
#include "vl2/addresses.h"
#include "vl2/network_config.h"
#include "vl2_test_vectors.h"

namespace zts {
namespace {

using vl1::InetAddress;
using vl2::Dictionary;
using vl2::NetworkConfig;

InetAddress ip(const char* text) {
  return *InetAddress::parse(text);
}

// The V15 config, built from its documented fields.
NetworkConfig v15Config() {
  const auto a = test::identityA();
  const auto b = test::identityB();
  NetworkConfig c;
  c.networkId = test::kVl2Nwid;
  c.timestamp = test::kVl2Timestamp;
  c.revision = 3;
  c.issuedTo = b.address();
  c.flags = NetworkConfig::kFlagEnableBroadcast;
  c.multicastLimit = 32;
  c.type = NetworkConfig::Type::kPrivate;
  c.name = "testnet";
  c.mtu = 2800;
  c.com = vl2::CertificateOfMembership::issue(c.networkId, c.timestamp, test::kVl2MaxDelta, b, a);
  vl2::CertificateOfOwnership coo;
  coo.networkId = c.networkId;
  coo.timestamp = c.timestamp;
  coo.id = 1;
  coo.issuedTo = b.address();
  const uint8_t v4[4] = {10, 147, 17, 5};
  coo.addIpv4(v4);
  EXPECT_TRUE(coo.sign(a));
  c.coos.push_back(coo);
  c.routes.push_back({ip("10.147.17.0/24"), InetAddress(), 0, 0});
  c.staticIps.push_back(ip("10.147.17.5/24"));
  c.rules = {0x01, 0x00};
  return c;
}

TEST(Vl2NetworkConfig, SerializeMatchesV15) {
  const auto bytes = v15Config().serialize();
  EXPECT_EQ(bytes.size(), 1130u);
  EXPECT_EQ(test::toHex(bytes), test::toHex(test::vectorBlock("V15")));
}

TEST(Vl2NetworkConfig, ParseV15) {
  const auto v15 = test::vectorBlock("V15");
  const auto c = NetworkConfig::parse(v15.data(), v15.size());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->version, 7u);
  EXPECT_TRUE(c->isFor(test::kVl2Nwid, 0x0b9ec04f21ULL));
  EXPECT_FALSE(c->isFor(test::kVl2Nwid, 0x8e4df28b72ULL));
  EXPECT_EQ(c->timestamp, test::kVl2Timestamp);
  EXPECT_EQ(c->revision, 3u);
  EXPECT_EQ(c->credentialTimeMaxDelta, 1800000u);
  EXPECT_TRUE(c->enableBroadcast());
  EXPECT_FALSE(c->ndpEmulation());
  EXPECT_EQ(c->multicastLimit, 32u);
  EXPECT_TRUE(c->isPrivate());
  EXPECT_EQ(c->name, "testnet");
  EXPECT_EQ(c->mtu, 2800u);
  ASSERT_TRUE(c->com);
  EXPECT_TRUE(c->com->verify(test::identityA()));
  ASSERT_EQ(c->coos.size(), 1u);
  EXPECT_TRUE(c->coos[0].verify(test::identityA()));
  ASSERT_EQ(c->routes.size(), 1u);
  EXPECT_EQ(c->routes[0].target.toString(), "10.147.17.0/24");
  EXPECT_TRUE(c->routes[0].via.isNil());
  ASSERT_EQ(c->staticIps.size(), 1u);
  EXPECT_EQ(c->staticIps[0].toString(), "10.147.17.5/24");
  const auto rules = c->parsedRules();
  ASSERT_TRUE(rules);
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ((*rules)[0].type(), static_cast<uint8_t>(vl2::RuleType::kActionAccept));
  EXPECT_TRUE(c->dns.domain.empty());
  EXPECT_TRUE(c->dns.servers.empty());
  EXPECT_TRUE(c->specialists.empty());
  // Round trip.
  EXPECT_EQ(c->serialize(), v15);
  EXPECT_EQ(c->coos, v15Config().coos);
}

// Each stock netconf file checked against the controller's network and member JSON.
void checkStockConf(const char* path, const char* member, const char* staticIp) {
  SCOPED_TRACE(path);
  const auto bytes = test::readSharedFile(path);
  const auto c = NetworkConfig::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(c);
  const auto memberId = test::stockMember(member);
  const auto controller = test::stockController();
  EXPECT_TRUE(c->isFor(test::kStockNwid, memberId.address()));
  EXPECT_EQ(c->name, "ztlab");
  EXPECT_EQ(c->mtu, 2800u);
  EXPECT_EQ(c->revision, 1u);
  EXPECT_TRUE(c->isPrivate());        // "private": true
  EXPECT_TRUE(c->enableBroadcast());  // "enableBroadcast": true
  EXPECT_FALSE(c->ndpEmulation());    // no rfc4193 / 6plane
  EXPECT_EQ(c->multicastLimit, 32u);  // "multicastLimit": 32
  EXPECT_EQ(c->credentialTimeMaxDelta, 1800000u);
  ASSERT_EQ(c->routes.size(), 1u);  // "routes": 172.29.0.0/16 via null
  EXPECT_EQ(c->routes[0].target.toString(), "172.29.0.0/16");
  EXPECT_TRUE(c->routes[0].via.isNil());
  EXPECT_EQ(c->routes[0].flags, 0);
  EXPECT_EQ(c->routes[0].metric, 0);
  // The member's fixed IP, with the netmask of the route that contains it.
  ASSERT_EQ(c->staticIps.size(), 1u);
  EXPECT_EQ(c->staticIps[0].toString(), staticIp);
  const auto rules = c->parsedRules();  // "rules": [ACTION_ACCEPT]
  ASSERT_TRUE(rules);
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ(rules->at(0).typeByte, 0x01);
  ASSERT_TRUE(c->com);
  EXPECT_TRUE(c->com->verify(controller));
  EXPECT_EQ(c->com->issuedTo(), memberId.address());
  EXPECT_EQ(c->com->timestamp(), c->timestamp);
  // One COO: the static IP, owned by the member, signed by the controller.
  ASSERT_EQ(c->coos.size(), 1u);
  const auto& coo = c->coos[0];
  EXPECT_TRUE(coo.verify(controller));
  EXPECT_FALSE(coo.verify(memberId));
  EXPECT_EQ(coo.issuedTo, memberId.address());
  EXPECT_EQ(coo.timestamp, c->timestamp);
  ASSERT_EQ(coo.things.size(), 1u);
  EXPECT_EQ(coo.things[0].type, vl2::CertificateOfOwnership::ThingType::kIpv4);
  EXPECT_EQ(0, std::memcmp(coo.things[0].value.data(), c->staticIps[0].ip(), 4));
  EXPECT_TRUE(c->dns.domain.empty());
  EXPECT_TRUE(c->dns.servers.empty());
  // Our writer reproduces the node's own serialisation byte for byte.
  EXPECT_EQ(test::toHex(c->serialize()), test::toHex(bytes));
}

TEST(Vl2NetworkConfig, StockClientConf) {
  checkStockConf(test::kStockClientConf, "8b83622530", "172.29.1.2/16");
}

TEST(Vl2NetworkConfig, StockServerConf) {
  checkStockConf(test::kStockServerConf, "1bde67c0ad", "172.29.1.1/16");
}

Dictionary v15Dict() {
  const auto v15 = test::vectorBlock("V15");
  return Dictionary::parse(v15.data(), v15.size());
}

// V15 with one key replaced (or removed when value is nullptr), keeping the others.
std::optional<NetworkConfig> withKey(const std::string& key, const char* value,
                                     size_t valueLen = std::string::npos) {
  const std::optional<std::string_view> replacement =
      value == nullptr ? std::nullopt
                       : std::optional<std::string_view>(std::string_view(
                             value, valueLen == std::string::npos ? std::strlen(value) : valueLen));
  Dictionary out;
  bool done = false;
  const Dictionary v15 = v15Dict();  // the loop must not iterate a temporary's member
  for (const auto& [k, v] : v15.entries()) {
    if (k == key) {
      done = true;
      if (replacement) out.add(k, *replacement);
    } else {
      out.add(k, v);
    }
  }
  if (!done && replacement) out.add(key, *replacement);
  return NetworkConfig::fromDictionary(out);
}

TEST(Vl2NetworkConfig, RequiresVersionAndNetwork) {
  EXPECT_TRUE(withKey("v", "6"));
  EXPECT_FALSE(withKey("v", "5"));
  EXPECT_FALSE(withKey("v", nullptr));
  EXPECT_FALSE(withKey("v", "junk"));
  EXPECT_FALSE(withKey("nwid", nullptr));
  EXPECT_FALSE(NetworkConfig::parse(nullptr, 0));
}

TEST(Vl2NetworkConfig, ClampsAndDefaults) {
  EXPECT_EQ(withKey("ctmd", "1")->credentialTimeMaxDelta, 300000u);
  EXPECT_EQ(withKey("ctmd", "ffffffff")->credentialTimeMaxDelta, 7200000u);
  EXPECT_EQ(withKey("ctmd", "493e0")->credentialTimeMaxDelta, 300000u);
  EXPECT_EQ(withKey("ctmd", nullptr)->credentialTimeMaxDelta, 1800000u);
  EXPECT_EQ(withKey("mtu", "64")->mtu, 1280u);
  EXPECT_EQ(withKey("mtu", "ffffffffffff")->mtu, 10000u);
  EXPECT_EQ(withKey("mtu", "5dc")->mtu, 1500u);
  EXPECT_EQ(withKey("mtu", nullptr)->mtu, 2800u);
  EXPECT_EQ(withKey("ml", nullptr)->multicastLimit, 32u);
  EXPECT_EQ(withKey("ml", "0")->multicastLimit, 0u);
  EXPECT_TRUE(withKey("t", "1")->type == NetworkConfig::Type::kPublic);
  EXPECT_TRUE(withKey("t", "2")->isPrivate());
  EXPECT_EQ(withKey("n", std::string(200, 'x').c_str())->name, std::string(127, 'x'));
  EXPECT_FALSE(withKey("C", nullptr)->com);
  // SSO keys are ignored.
  EXPECT_TRUE(withKey("ssoe", "1"));
}

TEST(Vl2NetworkConfig, MalformedBlobsRejected) {
  const auto v15 = v15Dict();
  const std::string com = *v15.getString("C");
  EXPECT_FALSE(withKey("C", com.data(), 100));
  EXPECT_FALSE(withKey("C", "\x02"));
  const std::string coo = *v15.getString("COO");
  EXPECT_FALSE(withKey("COO", coo.data(), coo.size() - 1));
  EXPECT_FALSE(withKey("RT", "\x04\x0a\x93\x11\x00\x00\x18\x00\x00\x00", 10));
  EXPECT_FALSE(withKey("I", "\x04\x0a\x93\x11\x05\x00", 6));
  EXPECT_FALSE(withKey("I", "\x09", 1));  // unknown address type
  EXPECT_FALSE(withKey("R", "\x01\x02\x00", 3));
  EXPECT_FALSE(withKey("S", "\x00\x00\x00", 3));
  EXPECT_FALSE(withKey("DNS", "abc"));
  EXPECT_FALSE(withKey("CAP", "\x01", 1));
  EXPECT_FALSE(withKey("TAG", "\x01", 1));
}

TEST(Vl2NetworkConfig, TruncatedDictionariesNeverCrash) {
  const auto v15 = test::vectorBlock("V15");
  const size_t comStart = 241;  // the escaped COM value (348 bytes) starts here
  ASSERT_EQ(v15[comStart - 2], 'C');
  ASSERT_EQ(v15[comStart - 1], '=');
  for (size_t n = 0; n < v15.size(); ++n) {
    const auto c = NetworkConfig::parse(v15.data(), n);
    // Cut inside the COM value: it is truncated and the whole config refused.
    if (n > comStart && n < comStart + 348) EXPECT_FALSE(c) << n;
  }
}

TEST(Vl2NetworkConfig, OptionalBlobsRoundTrip) {
  auto c = v15Config();
  c.specialists.push_back({vl2::Specialist::kActiveBridge | 0x1122334455ULL});
  c.routes.push_back({ip("fd00::/8"), ip("10.147.17.1/0"), 1, 7});
  c.staticIps.push_back(vl2::sixPlaneAddress(c.networkId, c.issuedTo));
  c.dns.domain = "lab.example";
  c.dns.servers = {ip("10.147.17.1/53"), ip("fd00::1/53")};
  vl2::Tag tag;
  tag.networkId = c.networkId;
  tag.timestamp = c.timestamp;
  tag.id = 5;
  tag.value = 9;
  tag.issuedTo = c.issuedTo;
  ASSERT_TRUE(tag.sign(test::identityA()));
  c.tags.push_back(tag);
  const auto bytes = c.serialize();
  const auto back = NetworkConfig::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->specialists, c.specialists);
  EXPECT_EQ(back->specialists[0].address(), 0x1122334455ULL);
  EXPECT_EQ(back->routes, c.routes);
  EXPECT_EQ(back->staticIps, c.staticIps);
  EXPECT_EQ(back->dns, c.dns);
  EXPECT_EQ(back->tags, c.tags);
  EXPECT_TRUE(back->tags[0].verify(test::identityA()));
  EXPECT_EQ(back->serialize(), bytes);
}

TEST(Vl2NetworkConfig, AdhocConfig) {
  const uint64_t a = 0x8e4df28b72ULL;
  const uint64_t nwid = vl2::adhocNetworkId(0x50, 0x50);
  const auto c = vl2::makeAdhocConfig(nwid, a, 1234);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->isFor(nwid, a));
  EXPECT_EQ(c->name, "adhoc-0050-0050");
  EXPECT_EQ(c->mtu, 2800u);
  EXPECT_EQ(c->multicastLimit, 0u);
  EXPECT_FALSE(c->isPrivate());
  EXPECT_TRUE(c->ndpEmulation());
  EXPECT_EQ(c->credentialTimeMaxDelta, 7200000u);
  EXPECT_EQ(c->revision, 1u);
  EXPECT_EQ(c->timestamp, 1234u);
  EXPECT_FALSE(c->com);
  ASSERT_EQ(c->staticIps.size(), 1u);
  EXPECT_EQ(c->staticIps[0].toString(), "fcaf:50:8e:4df2:8b72::1/40");
  EXPECT_EQ(c->parsedRules(), vl2::adhocRules(0x50, 0x50));
  // Survives the dictionary round trip.
  const auto bytes = c->serialize();
  const auto back = NetworkConfig::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->serialize(), bytes);
  EXPECT_EQ(vl2::makeAdhocConfig(0xff0000ffff000000ULL, a, 1)->name, "adhoc-0000-ffff");
  EXPECT_FALSE(vl2::makeAdhocConfig(vl2::adhocNetworkId(2, 1), a, 1));
  EXPECT_FALSE(vl2::makeAdhocConfig(test::kVl2Nwid, a, 1));
}

}  // namespace
}  // namespace zts
