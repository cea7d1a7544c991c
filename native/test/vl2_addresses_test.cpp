#include <gtest/gtest.h>

#include "test_support.h"
#include "vl2/addresses.h"

namespace zts {
namespace {

using vl2::Mac;

constexpr uint64_t kA = 0x8e4df28b72ULL;
constexpr uint64_t kNwid = 0x8056c2e21c000001ULL;

TEST(Vl2Addresses, MacMatchesV17) {
  const Mac mac = vl2::macFor(kA, kNwid);
  EXPECT_EQ(vl2::macToString(mac), "02:8e:4d:ee:69:b0");
  EXPECT_TRUE(vl2::isZeroTierMac(mac, kNwid));
  EXPECT_EQ(vl2::addressFromMac(mac, kNwid), kA);
  EXPECT_FALSE(vl2::isMulticastMac(mac));
  uint8_t bytes[6];
  vl2::macToBytes(mac, bytes);
  EXPECT_EQ(test::toHex(bytes, 6), "028e4dee69b0");
  EXPECT_EQ(vl2::macFromBytes(bytes), mac);
}

TEST(Vl2Addresses, MacAvoids52) {
  // Low nwid byte 0x50 or 0x52 would give first byte 0x52; stock uses 0x32 instead.
  EXPECT_EQ(vl2::macFirstByte(0x50), 0x32);
  EXPECT_EQ(vl2::macFirstByte(0x53), 0x32);
  EXPECT_EQ(vl2::macFirstByte(0x51), 0x32);
  EXPECT_EQ(vl2::macFirstByte(0x54), 0x56);
  EXPECT_EQ(vl2::macFirstByte(0xff), 0xfe);
  const uint64_t nwid = 0x1122334455667750ULL;
  const Mac mac = vl2::macFor(kA, nwid);
  EXPECT_EQ(mac >> 40, 0x32u);
  EXPECT_EQ(vl2::addressFromMac(mac, nwid), kA);
  EXPECT_FALSE(vl2::isZeroTierMac(vl2::macFor(kA, kNwid), nwid));
}

TEST(Vl2Addresses, ManagedIpv6MatchV17) {
  const auto rfc = vl2::rfc4193Address(kNwid, kA);
  EXPECT_EQ(rfc.toString(), "fd80:56c2:e21c:0:199:938e:4df2:8b72/88");
  const auto six = vl2::sixPlaneAddress(kNwid, kA);
  EXPECT_EQ(six.toString(), "fc9c:56c2:e38e:4df2:8b72::1/40");
}

TEST(Vl2Addresses, MulticastGroups) {
  const uint8_t ip[4] = {10, 147, 17, 5};
  const auto g = vl2::arpGroup(ip);
  EXPECT_EQ(g.mac, vl2::kBroadcastMac);
  EXPECT_EQ(g.adi, 0x0a931105u);
  EXPECT_TRUE(vl2::isMulticastMac(g.mac));
  const auto six = vl2::sixPlaneAddress(kNwid, kA);
  const auto sn = vl2::solicitedNodeGroup(six.ip());
  EXPECT_EQ(vl2::macToString(sn.mac), "33:33:ff:00:00:01");
  EXPECT_EQ(sn.adi, 0u);
}

TEST(Vl2Addresses, AdhocMatchesV17) {
  const uint64_t nwid = vl2::adhocNetworkId(0x50, 0x50);
  EXPECT_EQ(nwid, 0xff00500050000000ULL);
  EXPECT_TRUE(vl2::isAdhocNetwork(nwid));
  EXPECT_EQ(vl2::macToString(vl2::macFor(kA, nwid)), "02:8e:4d:a2:8b:22");
  EXPECT_EQ(vl2::sixPlaneAddress(nwid, kA).toString(), "fcaf:50:8e:4df2:8b72::1/40");
  const auto range = vl2::adhocPortRange(nwid);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->start, 0x50);
  EXPECT_EQ(range->end, 0x50);
  // §7.5 example: port 22 only.
  EXPECT_EQ(vl2::adhocNetworkId(22, 22), 0xff00160016000000ULL);
}

TEST(Vl2Addresses, AdhocRejects) {
  EXPECT_FALSE(vl2::adhocPortRange(vl2::adhocNetworkId(100, 99)));  // end < start
  EXPECT_FALSE(vl2::adhocPortRange(kNwid));                         // not ad-hoc
  EXPECT_FALSE(vl2::adhocPortRange(0xff00160016000001ULL));         // form B
  EXPECT_TRUE(vl2::isAdhocFormB(0xff0a8e4df28b7201ULL));
  EXPECT_FALSE(vl2::isAdhocFormB(0xff00160016000000ULL));
  EXPECT_FALSE(vl2::isAdhocFormB(0x0e0a8e4df28b7201ULL));
  const auto wide = vl2::adhocPortRange(vl2::adhocNetworkId(0, 0xffff));
  ASSERT_TRUE(wide);
  EXPECT_EQ(wide->end, 0xffff);
}

}  // namespace
}  // namespace zts
