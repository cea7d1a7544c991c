#include "ip_assignment.h"

#include <arpa/inet.h>

#include <charconv>
#include <string>

namespace zts::lab {
namespace {

// IPv6 pools need 128-bit arithmetic; GCC and Clang both provide it.
__extension__ using U128 = unsigned __int128;

U128 toInt(const vl1::InetAddress& a) {
  U128 v = 0;
  for (size_t i = 0; i < a.ipLength(); ++i) v = (v << 8) | a.ip()[i];
  return v;
}

vl1::InetAddress fromInt(bool v6, U128 v) {
  uint8_t b[16];
  const size_t n = v6 ? 16 : 4;
  for (size_t i = n; i-- > 0;) {
    b[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
  return v6 ? vl1::InetAddress::v6(b, 0) : vl1::InetAddress::v4(b, 0);
}

vl1::InetAddress withoutPort(const vl1::InetAddress& a) {
  vl1::InetAddress c = a;
  c.setPort(0);
  return c;
}

}  // namespace

std::optional<vl1::InetAddress> parseIp(std::string_view text) {
  // inet_pton reads a C string: anything with an embedded NUL is refused first. Its grammar
  // has no ports, brackets or prefixes, so those are refused by it.
  if (text.empty() || text.size() > 64 || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string s(text);
  uint8_t buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return vl1::InetAddress::v4(buf, 0);
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return vl1::InetAddress::v6(buf, 0);
  return std::nullopt;
}

std::optional<vl1::InetAddress> parseCidr(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = parseIp(text.substr(0, slash));
  const auto digits = text.substr(slash + 1);
  unsigned bits = 0;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
  if (!ip || digits.empty() || digits.size() > 3 || r.ec != std::errc() ||
      r.ptr != digits.data() + digits.size() || bits > ip->ipLength() * 8) {
    return std::nullopt;
  }
  ip->setPort(static_cast<uint16_t>(bits));
  return ip;
}

bool cidrContains(const vl1::InetAddress& net, const vl1::InetAddress& ip) {
  if (net.isNil() || net.family() != ip.family()) return false;
  const unsigned maxBits = static_cast<unsigned>(net.ipLength() * 8);
  const unsigned bits = net.port() > maxBits ? maxBits : net.port();
  if (bits == 0) return true;
  const unsigned shift = maxBits - bits;
  // A shift by the full width (bits == 0) is excluded above: it would be undefined.
  return (toInt(net) >> shift) == (toInt(ip) >> shift);
}

std::optional<unsigned> onLinkBits(const std::vector<vl2::Route>& routes,
                                   const vl1::InetAddress& ip) {
  std::optional<unsigned> best;
  for (const auto& r : routes) {
    if (!r.via.isNil() || !cidrContains(r.target, ip)) continue;
    if (!best || r.target.port() > *best) best = r.target.port();
  }
  return best;
}

std::optional<vl1::InetAddress> assignFromPool(const IpPool& pool, uint64_t member,
                                               const std::vector<vl2::Route>& routes,
                                               const std::set<vl1::InetAddress>& used) {
  if (pool.start.isNil() || pool.start.family() != pool.end.family()) return std::nullopt;
  const bool v6 = pool.start.isV6();
  const U128 start = toInt(pool.start);
  const U128 end = toInt(pool.end);
  if (end < start) return std::nullopt;
  const U128 span = end - start;
  const auto usable = [&](U128 v) -> std::optional<vl1::InetAddress> {
    const auto a = fromInt(v6, v);
    if (onLinkBits(routes, a) && used.count(withoutPort(a)) == 0) return a;
    return std::nullopt;
  };

  if (v6 && span >= (U128(1) << 40)) return usable(start + (member & 0xffffffffffULL));

  const U128 size = span == 0 ? 1 : span;
  const U128 offset = (v6 ? U128(member) : U128(member & 0xffffffffULL)) % size;
  const U128 trials = size < kMaxPoolTrials ? size : U128(kMaxPoolTrials);
  for (U128 k = 0; k < trials; ++k) {
    const U128 v = start + (offset + k) % size;
    if (!v6 && ((v & 0xff) == 0 || (v & 0xff) == 0xff)) continue;
    if (auto a = usable(v)) return a;
  }
  return std::nullopt;
}

}  // namespace zts::lab
