#include "network_config.h"

#include <algorithm>
#include <cstdio>

#include "addresses.h"

namespace zts::vl2 {
namespace {

const std::string* blob(const Dictionary& d, const char* key) {
  const std::string* v = d.find(key);
  return (v != nullptr && !v->empty()) ? v : nullptr;
}

const uint8_t* bytesOf(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

bool parseRoutes(const std::string& b, std::vector<Route>& out) {
  util::Reader r(bytesOf(b), b.size());
  while (r.remaining() > 0) {
    Route route;
    route.target = vl1::InetAddress::read(r);
    route.via = vl1::InetAddress::read(r);
    route.flags = r.u16();
    route.metric = r.u16();
    if (!r.ok()) return false;
    out.push_back(route);
  }
  return true;
}

bool parseStaticIps(const std::string& b, std::vector<vl1::InetAddress>& out) {
  util::Reader r(bytesOf(b), b.size());
  while (r.remaining() > 0) {
    const auto a = vl1::InetAddress::read(r);
    if (!r.ok()) return false;
    if (!a.isNil()) out.push_back(a);
  }
  return true;
}

bool parseSpecialists(const std::string& b, std::vector<Specialist>& out) {
  if (b.size() % 8 != 0) return false;
  util::Reader r(bytesOf(b), b.size());
  while (r.remaining() > 0) out.push_back(Specialist{r.u64()});
  return true;
}

bool parseDns(const std::string& b, DnsConfig& out) {
  util::Reader r(bytesOf(b), b.size());
  const uint8_t* domain = r.bytes(DnsConfig::kDomainLen);
  if (domain == nullptr) return false;
  const auto* end = std::find(domain, domain + DnsConfig::kDomainLen, 0);
  out.domain.assign(domain, end);
  for (size_t i = 0; i < DnsConfig::kMaxServers && r.remaining() > 0; ++i) {
    const auto a = vl1::InetAddress::read(r);
    if (!r.ok()) return false;
    if (!a.isNil()) out.servers.push_back(a);
  }
  return true;
}

template <typename T>
bool parseInto(const std::string* b,
               std::optional<std::vector<T>> (*parser)(const uint8_t*, size_t),
               std::vector<T>& out) {
  if (b == nullptr) return true;
  auto v = parser(bytesOf(*b), b->size());
  if (!v) return false;
  out = std::move(*v);
  return true;
}

template <typename T>
std::vector<uint8_t> concat(const std::vector<T>& items) {
  std::vector<uint8_t> out;
  util::Writer w(out);
  for (const auto& c : items) c.write(w);
  return out;
}

}  // namespace

std::optional<NetworkConfig> NetworkConfig::fromDictionary(const Dictionary& d) {
  NetworkConfig c;
  const auto version = d.getUInt("v");
  if (!version || *version < kMinFormatVersion) return std::nullopt;
  const auto nwid = d.getUInt("nwid");
  if (!nwid) return std::nullopt;
  c.version = *version;
  c.networkId = *nwid;
  c.timestamp = d.getUInt("ts", 0);
  c.revision = d.getUInt("r", 0);
  c.issuedTo = d.getUInt("id", 0) & 0xffffffffffULL;
  c.credentialTimeMaxDelta = std::clamp(d.getUInt("ctmd", kDefaultCredentialTimeMaxDelta),
                                        kMinCredentialTimeMaxDelta, kMaxCredentialTimeMaxDelta);
  c.remoteTraceTarget = d.getUInt("tt", 0) & 0xffffffffffULL;
  c.remoteTraceLevel = d.getUInt("tl", 0);
  c.flags = d.getUInt("f", 0);
  c.multicastLimit = d.getUInt("ml", kDefaultMulticastLimit);
  // Anything but "public" keeps the stricter private behaviour (COMs required).
  c.type = d.getUInt("t", 0) == 1 ? Type::kPublic : Type::kPrivate;
  c.name = d.getString("n").value_or("");
  if (c.name.size() > kMaxNameLen) c.name.resize(kMaxNameLen);
  c.mtu =
      static_cast<unsigned>(std::clamp<uint64_t>(d.getUInt("mtu", kDefaultMtu), kMinMtu, kMaxMtu));

  if (const auto* b = blob(d, "C")) {
    c.com = CertificateOfMembership::parse(bytesOf(*b), b->size());
    if (!c.com) return std::nullopt;
  }
  if (!parseInto(blob(d, "COO"), &parseCooBlob, c.coos)) return std::nullopt;
  if (!parseInto(blob(d, "CAP"), &parseCapabilityBlob, c.capabilities)) return std::nullopt;
  if (!parseInto(blob(d, "TAG"), &parseTagBlob, c.tags)) return std::nullopt;
  if (const auto* b = blob(d, "S"); b != nullptr && !parseSpecialists(*b, c.specialists)) {
    return std::nullopt;
  }
  if (const auto* b = blob(d, "RT"); b != nullptr && !parseRoutes(*b, c.routes)) {
    return std::nullopt;
  }
  if (const auto* b = blob(d, "I"); b != nullptr && !parseStaticIps(*b, c.staticIps)) {
    return std::nullopt;
  }
  if (const auto* b = blob(d, "R")) {
    if (!parseRules(bytesOf(*b), b->size())) return std::nullopt;
    c.rules.assign(b->begin(), b->end());
  }
  if (const auto* b = blob(d, "DNS"); b != nullptr && !parseDns(*b, c.dns)) {
    return std::nullopt;
  }
  return c;
}

Dictionary NetworkConfig::toDictionary() const {
  Dictionary d;
  d.addUInt("v", version);
  d.addUInt("nwid", networkId);
  d.addUInt("ts", timestamp);
  d.addUInt("ctmd", credentialTimeMaxDelta);
  d.addUInt("r", revision);
  d.addAddress("id", issuedTo);
  d.addAddress("tt", remoteTraceTarget);
  d.addUInt("tl", remoteTraceLevel);
  d.addUInt("f", flags);
  d.addUInt("ml", multicastLimit);
  d.addUInt("t", static_cast<uint64_t>(type));
  if (!name.empty()) d.add("n", name.substr(0, kMaxNameLen));
  d.addUInt("mtu", mtu);
  if (com) d.add("C", com->serialize());
  if (!coos.empty()) d.add("COO", concat(coos));
  if (!capabilities.empty()) d.add("CAP", concat(capabilities));
  if (!tags.empty()) d.add("TAG", concat(tags));
  if (!specialists.empty()) {
    std::vector<uint8_t> s;
    util::Writer w(s);
    for (const auto& sp : specialists) w.u64(sp.raw);
    d.add("S", s);
  }
  if (!routes.empty()) {
    std::vector<uint8_t> rt;
    util::Writer w(rt);
    for (const auto& r : routes) {
      r.target.write(w);
      r.via.write(w);
      w.u16(r.flags);
      w.u16(r.metric);
    }
    d.add("RT", rt);
  }
  if (!staticIps.empty()) {
    std::vector<uint8_t> ips;
    util::Writer w(ips);
    for (const auto& a : staticIps) a.write(w);
    d.add("I", ips);
  }
  if (!rules.empty()) d.add("R", rules);
  // 1.14 always sends the DNS block, empty or not: a NUL-padded domain then four servers.
  std::vector<uint8_t> dnsBlob(DnsConfig::kDomainLen, 0);
  std::copy_n(dns.domain.begin(), std::min(dns.domain.size(), DnsConfig::kDomainLen - 1),
              dnsBlob.begin());
  util::Writer w(dnsBlob);
  for (size_t i = 0; i < DnsConfig::kMaxServers; ++i) {
    (i < dns.servers.size() ? dns.servers[i] : vl1::InetAddress()).write(w);
  }
  d.add("DNS", dnsBlob);
  d.addUInt("ssov", 0);
  d.addBool("ssoe", false);
  return d;
}

std::optional<NetworkConfig> makeAdhocConfig(uint64_t nwid, uint64_t address, uint64_t now) {
  const auto ports = adhocPortRange(nwid);
  if (!ports) return std::nullopt;
  NetworkConfig c;
  c.networkId = nwid;
  c.timestamp = now;
  c.revision = 1;
  c.issuedTo = address;
  c.credentialTimeMaxDelta = NetworkConfig::kMaxCredentialTimeMaxDelta;
  c.flags = NetworkConfig::kFlagNdpEmulation;
  // No multicast means no ARP and no IPv4 at all: the network is IPv6 only by design.
  c.multicastLimit = 0;
  c.type = NetworkConfig::Type::kPublic;
  char name[32];
  std::snprintf(name, sizeof name, "adhoc-%04x-%04x", ports->start, ports->end);
  c.name = name;
  c.mtu = NetworkConfig::kDefaultMtu;
  c.staticIps.push_back(sixPlaneAddress(nwid, address));
  c.rules = serializeRules(adhocRules(ports->start, ports->end));
  return c;
}

}  // namespace zts::vl2
