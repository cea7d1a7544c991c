#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <map>

#include "test_support.h"
#include "vl1/inet_address.h"

namespace zts {
namespace {

using vl1::InetAddress;

std::vector<uint8_t> serialize(const InetAddress& a) {
  std::vector<uint8_t> out;
  util::Writer w(out);
  a.write(w);
  return out;
}

InetAddress mustParse(const std::string& text) {
  auto a = InetAddress::parse(text);
  EXPECT_TRUE(a) << text;
  return a.value_or(InetAddress());
}

TEST(InetAddress, WireRoundTrips) {
  const std::vector<std::string> records = {
      "00",
      "047f0000012709",
      "062605988002001200003005710e3400512709",
      "040a9311050018",
  };
  for (const auto& hex : records) {
    const auto bytes = test::hex(hex);
    util::Reader r(bytes.data(), bytes.size());
    const InetAddress a = InetAddress::read(r);
    ASSERT_TRUE(r.ok()) << hex;
    EXPECT_EQ(r.remaining(), 0u) << hex;
    EXPECT_EQ(a.serializedSize(), bytes.size()) << hex;
    EXPECT_EQ(test::toHex(serialize(a)), hex);
  }
}

TEST(InetAddress, NetmaskBitsInPort) {
  const auto bytes = test::hex("04 0a931105 0018");
  util::Reader r(bytes.data(), bytes.size());
  const InetAddress a = InetAddress::read(r);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(a.isV4());
  EXPECT_EQ(a.port(), 24);
  EXPECT_EQ(a.toString(), "10.147.17.5/24");
  EXPECT_EQ(a, mustParse("10.147.17.5/24"));
}

TEST(InetAddress, ReservedTypesAreSkipped) {
  // Ethernet, Bluetooth, then an "other" record of length 3, then an IPv4 address.
  const auto bytes = test::hex("01aabbccddeeff 02112233445566 030003abcdef 047f0000012709");
  util::Reader r(bytes.data(), bytes.size());
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(InetAddress::read(r).isNil());
    ASSERT_TRUE(r.ok());
  }
  EXPECT_EQ(InetAddress::read(r).toString(), "127.0.0.1/9993");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(InetAddress, TruncatedOrUnknownFailsTheReader) {
  const std::vector<std::string> records = {
      "047f0000012709", "062605988002001200003005710e3400512709", "01aabbccddeeff", "030003abcdef"};
  for (const auto& hex : records) {
    const auto bytes = test::hex(hex);
    for (size_t n = 0; n < bytes.size(); ++n) {
      util::Reader r(bytes.data(), n);
      const InetAddress a = InetAddress::read(r);
      EXPECT_FALSE(r.ok()) << hex << " cut at " << n;
      EXPECT_TRUE(a.isNil());
    }
  }
  for (uint8_t type : {0x05, 0x07, 0x41, 0xff}) {
    const uint8_t bytes[] = {type, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    util::Reader r(bytes, sizeof bytes);
    InetAddress::read(r);
    EXPECT_FALSE(r.ok()) << int(type);
  }
}

TEST(InetAddress, ParseAndToString) {
  EXPECT_EQ(mustParse("1.2.3.4/9993").toString(), "1.2.3.4/9993");
  EXPECT_EQ(mustParse("1.2.3.4:9993").toString(), "1.2.3.4/9993");
  EXPECT_EQ(mustParse("[::1]:9993").toString(), "::1/9993");
  EXPECT_EQ(mustParse("[::1]/9993").toString(), "::1/9993");
  EXPECT_EQ(mustParse("::1/9993").toString(), "::1/9993");
  EXPECT_EQ(mustParse("FD00:0:0::1/9993").toString(), "fd00::1/9993");
  EXPECT_EQ(mustParse("2605:9880:200:1200:30:571:e34:51/9993").toString(),
            "2605:9880:200:1200:30:571:e34:51/9993");
  EXPECT_EQ(mustParse("10.0.0.1/0").port(), 0);
  EXPECT_EQ(mustParse("10.0.0.1/65535").port(), 65535);
  EXPECT_EQ(mustParse("10.0.0.1").port(), 0);
  EXPECT_EQ(mustParse("10.0.0.1").ipString(), "10.0.0.1");
  EXPECT_TRUE(mustParse("::ffff:1.2.3.4/1").isV6());

  for (const char* text : {"1.2.3.4/9993", "10.147.17.5/24", "fd00::1/9993", "::/0",
                           "2a02:6ea0:d405::9993/9993", "255.255.255.255/65535"}) {
    EXPECT_EQ(mustParse(text).toString(), text);
  }

  for (const char* bad : {"",           "1.2.3.4/",       "1.2.3.4:",    "1.2.3.4/65536",
                          "1.2.3.4/-1", "1.2.3.4/+1",     "1.2.3.4/ 1",  "1.2.3.4/123456",
                          "1.2.3/9993", "1.2.3.4.5/9993", "256.1.1.1/1", "[::1]x",
                          "[::1]:",     "[::1",           "[1.2.3.4]:1", "::1::2/1",
                          "::1%eth0/1", "host/1",         "/1",          ":1",
                          "1.2.3.4/1/2"}) {
    EXPECT_FALSE(InetAddress::parse(bad)) << bad;
  }
  EXPECT_EQ(mustParse("[::1]").toString(), "::1/0");
  EXPECT_FALSE(InetAddress::parse(std::string("1.2.3.4\0/1", 10)));
}

TEST(InetAddress, NilPrintsEmpty) {
  InetAddress nil;
  EXPECT_TRUE(nil.isNil());
  EXPECT_EQ(nil.toString(), "");
  EXPECT_EQ(nil.ipString(), "");
  EXPECT_EQ(nil.serializedSize(), 1u);
  EXPECT_EQ(nil.ipLength(), 0u);
}

TEST(InetAddress, Loopback) {
  EXPECT_TRUE(mustParse("127.0.0.1/1").isLoopback());
  EXPECT_TRUE(mustParse("127.255.0.9/1").isLoopback());
  EXPECT_TRUE(mustParse("::1/1").isLoopback());
  EXPECT_TRUE(mustParse("::ffff:127.0.0.1/1").isLoopback());
  EXPECT_FALSE(mustParse("128.0.0.1/1").isLoopback());
  EXPECT_FALSE(mustParse("::2/1").isLoopback());
  EXPECT_FALSE(mustParse("::/1").isLoopback());
  EXPECT_FALSE(mustParse("::ffff:10.0.0.1/1").isLoopback());
  EXPECT_FALSE(InetAddress().isLoopback());
}

TEST(InetAddress, UsablePath) {
  for (const char* ok :
       {"10.0.0.1/9993", "192.168.1.2/1", "104.194.8.134/9993",
        "2605:9880:200:1200:30:571:e34:51/9993", "fd00::1/9993", "::ffff:10.1.2.3/9993",
        "100.64.0.1/9993", "169.253.0.1/1", "223.255.255.255/1", "255.255.255.254/1"}) {
    EXPECT_TRUE(mustParse(ok).isUsablePath(false)) << ok;
  }
  for (const char* bad :
       {"10.0.0.1/0", "0.0.0.0/9993", "224.0.0.1/9993", "239.1.2.3/9993", "169.254.1.1/9993",
        "255.255.255.255/9993", "::/9993", "ff02::1/9993", "fe80::1/9993", "febf::1/9993",
        "::ffff:169.254.0.1/9993", "::ffff:0.0.0.0/9993"}) {
    EXPECT_FALSE(mustParse(bad).isUsablePath(false)) << bad;
    EXPECT_FALSE(mustParse(bad).isUsablePath(true)) << bad;
  }
  for (const char* loop : {"127.0.0.1/9993", "::1/9993", "::ffff:127.0.0.1/9993"}) {
    EXPECT_FALSE(mustParse(loop).isUsablePath(false)) << loop;
    EXPECT_TRUE(mustParse(loop).isUsablePath(true)) << loop;
  }
  EXPECT_FALSE(InetAddress().isUsablePath(true));
}

TEST(InetAddress, SockaddrRoundTrips) {
  for (const char* text : {"1.2.3.4/9993", "fd00::1/65535", "255.255.255.255/1"}) {
    const InetAddress a = mustParse(text);
    sockaddr_storage ss;
    const unsigned len = a.toSockaddr(&ss);
    ASSERT_EQ(len, a.isV4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)) << text;
    auto back = InetAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&ss));
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(*back, a) << text;
  }

  // Network byte order, checked against the C library's own helpers.
  sockaddr_storage ss;
  ASSERT_EQ(mustParse("10.147.17.5/9993").toSockaddr(&ss), sizeof(sockaddr_in));
  const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
  EXPECT_EQ(in->sin_family, AF_INET);
  EXPECT_EQ(in->sin_port, htons(9993));
  EXPECT_EQ(in->sin_addr.s_addr, inet_addr("10.147.17.5"));

  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(443);
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::7", &in6.sin6_addr), 1);
  auto a6 = InetAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&in6));
  ASSERT_TRUE(a6);
  EXPECT_EQ(a6->toString(), "2001:db8::7/443");

  EXPECT_EQ(InetAddress().toSockaddr(&ss), 0u);
  EXPECT_FALSE(InetAddress::fromSockaddr(nullptr));
  sockaddr unix_sa{};
  unix_sa.sa_family = AF_UNIX;
  EXPECT_FALSE(InetAddress::fromSockaddr(&unix_sa));
}

TEST(InetAddress, ComparisonAndOrdering) {
  const InetAddress a = mustParse("1.2.3.4/1");
  EXPECT_EQ(a, mustParse("1.2.3.4:1"));
  EXPECT_NE(a, mustParse("1.2.3.4/2"));
  EXPECT_TRUE(a.sameIp(mustParse("1.2.3.4/2")));
  EXPECT_FALSE(a.sameIp(mustParse("::ffff:1.2.3.4/1")));
  EXPECT_NE(a, mustParse("::ffff:1.2.3.4/1"));
  EXPECT_NE(a, InetAddress());

  std::map<InetAddress, int> m;
  const std::vector<std::string> keys = {"1.2.3.4/1", "1.2.3.4/2", "1.2.3.5/1", "::1/1",
                                         "::1/2",     "fd00::1/1", "0.0.0.0/0"};
  for (size_t i = 0; i < keys.size(); ++i) m[mustParse(keys[i])] = static_cast<int>(i);
  m[InetAddress()] = 99;
  EXPECT_EQ(m.size(), keys.size() + 1);
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(m.at(mustParse(keys[i])), int(i));
  EXPECT_EQ(m.at(InetAddress()), 99);
  for (const auto& x : keys) {
    for (const auto& y : keys) {
      const InetAddress ax = mustParse(x), ay = mustParse(y);
      EXPECT_EQ(ax < ay || ay < ax, ax != ay) << x << " " << y;
    }
  }
}

}  // namespace
}  // namespace zts
