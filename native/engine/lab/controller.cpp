// Networks, members and the request/refresh logic. Config building is in
// controller_config.cpp, JSON in controller_json.cpp.
#include "controller.h"

#include <cstring>

#include "../crypto/primitives.h"
#include "../util/hex.h"
#include "../vl2/config_chunk.h"
#include "../vl2/rules.h"

namespace zts::lab {
namespace {

// Network settings and member names longer than this are refused (a config name is cut at
// 127 bytes by readers).
constexpr size_t kMaxMemberNameLen = 255;
constexpr uint64_t kMaxMulticastLimit = 0xffffffffULL;  // stock keeps it in 32 bits
constexpr uint32_t kMaxNetworkNumber = 0xffffff;

bool ipLess(const vl1::InetAddress& a, const vl1::InetAddress& b) {
  return std::memcmp(a.ip(), b.ip(), a.ipLength()) < 0;
}

std::optional<uint64_t> parseHexExact(std::string_view text, size_t digits) {
  if (text.size() != digits) return std::nullopt;
  uint64_t v = 0;
  for (const char c : text) {
    const int d = util::hexNibble(c);
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

bool isBridge(const Member& m) {
  return m.settings.authorized && m.settings.activeBridge;
}

}  // namespace

std::string NetworkSettings::validate() const {
  if (name.size() > vl2::NetworkConfig::kMaxNameLen) return "name: at most 127 bytes";
  if (mtu < vl2::NetworkConfig::kMinMtu || mtu > vl2::NetworkConfig::kMaxMtu) {
    return "mtu: must be 1280..10000";
  }
  if (multicastLimit > kMaxMulticastLimit) return "multicastLimit: out of range";
  if (credentialTimeMaxDelta < vl2::NetworkConfig::kMinCredentialTimeMaxDelta ||
      credentialTimeMaxDelta > vl2::NetworkConfig::kMaxCredentialTimeMaxDelta) {
    return "credentialTimeMaxDelta: must be 300000..7200000";
  }
  if (ipAssignmentPools.size() > kMaxPools) return "ipAssignmentPools: too many pools";
  for (const auto& p : ipAssignmentPools) {
    if (p.start.isNil() || p.start.family() != p.end.family()) {
      return "ipAssignmentPools: start and end must be addresses of one family";
    }
    if (p.start.port() != 0 || p.end.port() != 0) return "ipAssignmentPools: plain IPs only";
    if (ipLess(p.end, p.start)) return "ipAssignmentPools: ipRangeStart > ipRangeEnd";
  }
  if (routes.size() > kMaxRoutes) return "routes: too many routes";
  for (const auto& r : routes) {
    if (r.target.isNil() || r.target.port() > r.target.ipLength() * 8) {
      return "routes: target must be a CIDR";
    }
    if (!r.via.isNil() && (r.via.family() != r.target.family() || r.via.port() != 0)) {
      return "routes: via must be an IP of the target's family or null";
    }
  }
  if (!vl2::parseRules(rules.data(), rules.size())) return "rules: malformed";
  // The config carries the domain in 128 NUL-padded bytes and at most four servers.
  if (dns.domain.size() >= vl2::DnsConfig::kDomainLen) return "dns: domain at most 127 bytes";
  if (dns.domain.find('\0') != std::string::npos) return "dns: domain must not contain NUL";
  if (dns.servers.size() > vl2::DnsConfig::kMaxServers) return "dns: at most 4 servers";
  for (const auto& a : dns.servers) {
    if (a.isNil()) return "dns: servers must be IP addresses";
  }
  return "";
}

std::string MemberSettings::validate() const {
  if (name.size() > kMaxMemberNameLen) return "name: at most 255 bytes";
  if (ipAssignments.size() > kMaxIpAssignments) return "ipAssignments: at most 14";
  for (size_t i = 0; i < ipAssignments.size(); ++i) {
    const auto& a = ipAssignments[i];
    if (a.isNil() || a.port() != 0) return "ipAssignments: plain IPs only";
    for (size_t j = 0; j < i; ++j) {
      if (ipAssignments[j] == a) return "ipAssignments: duplicate " + a.ipString();
    }
  }
  return "";
}

Controller::Controller(const vl1::Identity& identity) : identity_(identity) {
  crypto::initialize();
}

Controller::NetworkState* Controller::findNetwork(uint64_t nwid) {
  auto it = networks_.find(nwid);
  return it == networks_.end() ? nullptr : &it->second;
}

const Controller::NetworkState* Controller::findNetwork(uint64_t nwid) const {
  auto it = networks_.find(nwid);
  return it == networks_.end() ? nullptr : &it->second;
}

std::string Controller::createNetwork(std::optional<uint32_t> number,
                                      const NetworkSettings& settings, int64_t now,
                                      uint64_t* nwidOut) {
  if (auto err = settings.validate(); !err.empty()) return err;
  uint64_t nwid = 0;
  if (number) {
    if (*number > kMaxNetworkNumber) return "network number: at most 24 bits";
    nwid = (address() << 24) | *number;
    if (networks_.count(nwid) != 0) return "network exists";
  } else {
    // 2^24 numbers: a free one turns up at once unless nearly all are taken.
    for (int tries = 0; tries < 1000 && nwid == 0; ++tries) {
      uint8_t r[3];
      crypto::randomBytes(r, sizeof r);
      const uint64_t candidate = (address() << 24) | util::readBigEndian(r, 3);
      if (networks_.count(candidate) == 0) nwid = candidate;
    }
    if (nwid == 0) return "no free network number";
  }
  NetworkState n;
  n.net.id = nwid;
  n.net.settings = settings;
  n.net.creationTime = now;
  n.net.revision = 1;
  networks_.emplace(nwid, std::move(n));
  if (nwidOut != nullptr) *nwidOut = nwid;
  return "";
}

std::string Controller::updateNetwork(uint64_t nwid, const NetworkSettings& settings) {
  NetworkState* n = findNetwork(nwid);
  if (n == nullptr) return "network not found";
  if (auto err = settings.validate(); !err.empty()) return err;
  if (n->net.settings == settings) return "";
  n->net.settings = settings;
  ++n->net.revision;
  ++n->epoch;
  return "";
}

bool Controller::deleteNetwork(uint64_t nwid) {
  return networks_.erase(nwid) != 0;
}

const Network* Controller::network(uint64_t nwid) const {
  const NetworkState* n = findNetwork(nwid);
  return n == nullptr ? nullptr : &n->net;
}

std::vector<uint64_t> Controller::networks() const {
  std::vector<uint64_t> out;
  for (const auto& [id, n] : networks_) out.push_back(id);
  return out;
}

const Member* Controller::member(uint64_t nwid, uint64_t address) const {
  const NetworkState* n = findNetwork(nwid);
  if (n == nullptr) return nullptr;
  auto it = n->members.find(address);
  return it == n->members.end() ? nullptr : &it->second.m;
}

std::vector<uint64_t> Controller::members(uint64_t nwid) const {
  std::vector<uint64_t> out;
  if (const NetworkState* n = findNetwork(nwid)) {
    for (const auto& [a, ms] : n->members) out.push_back(a);
  }
  return out;
}

std::string Controller::setMember(uint64_t nwid, uint64_t address, const MemberSettings& settings,
                                  int64_t now) {
  NetworkState* n = findNetwork(nwid);
  if (n == nullptr) return "network not found";
  return applyMemberSettings(*n, address, settings, now);
}

std::string Controller::applyMemberSettings(NetworkState& n, uint64_t address,
                                            const MemberSettings& s, int64_t now) {
  if (address > 0xffffffffffULL || vl1::isReservedAddress(address)) return "bad member address";
  if (auto err = s.validate(); !err.empty()) return err;
  auto [it, created] = n.members.try_emplace(address);
  Member& m = it->second.m;
  if (created) {
    m.address = address;
    m.nwid = n.net.id;
    m.creationTime = now;
  } else if (m.settings == s) {
    return "";
  }
  const bool wasBridge = !created && isBridge(m);
  if (s.authorized && (created || !m.settings.authorized)) {
    m.lastAuthorizedTime = now;
    m.lastAuthorizedCredentialType = "api";
  }
  if (!s.authorized && !created && m.settings.authorized) m.lastDeauthorizedTime = now;
  m.settings = s;
  m.revision = created ? 1 : m.revision + 1;
  if (wasBridge != isBridge(m)) ++n.epoch;
  n.revoked.erase(address);
  return "";
}

bool Controller::deleteMember(uint64_t nwid, uint64_t address) {
  NetworkState* n = findNetwork(nwid);
  if (n == nullptr) return false;
  auto it = n->members.find(address);
  if (it == n->members.end()) return false;
  // On a public network the member is still welcome: its next request re-creates it.
  if (it->second.sent.config && n->net.settings.isPrivate) n->revoked.insert(address);
  if (isBridge(it->second.m)) ++n->epoch;
  n->members.erase(it);
  return true;
}

ConfigReply Controller::handleConfigRequest(int64_t now, const vl1::Identity& member, uint64_t nwid,
                                            const vl2::Dictionary& metadata) {
  ConfigReply denied;
  denied.status = ConfigReply::Status::kAccessDenied;
  NetworkState* n = findNetwork(nwid);
  if (n == nullptr || !identity_.hasPrivate()) return {};
  const uint64_t address = member.address();
  if (address > 0xffffffffffULL || vl1::isReservedAddress(address)) return denied;

  auto [it, created] = n->members.try_emplace(address);
  MemberState& ms = it->second;
  Member& m = ms.m;
  if (created) {
    // Like stock: whoever asks is recorded, unauthorised (a public network authorises it
    // in answer()).
    m.address = address;
    m.nwid = nwid;
    m.creationTime = now;
    m.revision = 1;
  } else if (m.identity && !m.identity->samePublic(member)) {
    return denied;  // another key for a known address: an impostor or a collision
  }
  if (!m.identity) {
    m.identity = vl1::Identity(address, member.publicKey());  // never keep a private key
    if (!created) ++m.revision;
  }
  // Informational only (member JSON vMajor etc.), so it does not move the revision.
  const auto version = [&](const char* key, int& field) {
    if (auto v = metadata.getUInt(key)) field = static_cast<int>(*v & 0xffff);
  };
  version("majv", m.vMajor);
  version("minv", m.vMinor);
  version("revv", m.vRev);
  version("pv", m.vProto);
  ms.metadata = metadata;
  n->revoked.erase(address);
  return answer(now, *n, ms);
}

bool Controller::needsRefresh(const NetworkState& n, const MemberState& ms) const {
  if (!ms.sent.any || !ms.m.identity) return false;
  const bool allowed = ms.m.settings.authorized || !n.net.settings.isPrivate;
  if (!ms.sent.config) return allowed;  // was refused, may join now
  if (!allowed) return true;            // must learn it lost access
  return ms.sent.epoch != n.epoch || ms.sent.revision != ms.m.revision;
}

std::vector<uint64_t> Controller::membersToRefresh(uint64_t nwid) const {
  std::vector<uint64_t> out;
  const NetworkState* n = findNetwork(nwid);
  if (n == nullptr) return out;
  for (const auto& [a, ms] : n->members) {
    if (needsRefresh(*n, ms)) out.push_back(a);
  }
  out.insert(out.end(), n->revoked.begin(), n->revoked.end());
  return out;
}

ConfigReply Controller::configFor(int64_t now, uint64_t nwid, uint64_t address) {
  ConfigReply denied;
  denied.status = ConfigReply::Status::kAccessDenied;
  NetworkState* n = findNetwork(nwid);
  if (n == nullptr || !identity_.hasPrivate()) return {};
  n->revoked.erase(address);
  auto it = n->members.find(address);
  if (it == n->members.end() || !it->second.m.identity) return denied;
  return answer(now, *n, it->second);
}

void Controller::assignIps(NetworkState& n, MemberState& ms) {
  const NetworkSettings& s = n.net.settings;
  MemberSettings& mine = ms.m.settings;
  if (mine.noAutoAssignIps || (!s.v4AssignZt && !s.v6AssignZt)) return;
  std::set<vl1::InetAddress> used;
  for (const auto& [a, other] : n.members) {
    used.insert(other.m.settings.ipAssignments.begin(), other.m.settings.ipAssignments.end());
  }
  for (const bool v6 : {false, true}) {
    if (!(v6 ? s.v6AssignZt : s.v4AssignZt)) continue;
    bool have = false;
    for (const auto& a : mine.ipAssignments) have = have || a.isV6() == v6;
    if (have || mine.ipAssignments.size() >= MemberSettings::kMaxIpAssignments) continue;
    for (const auto& pool : s.ipAssignmentPools) {
      if (pool.start.isV6() != v6) continue;
      if (auto a = assignFromPool(pool, ms.m.address, s.routes, used)) {
        // Persisted, as stock does, so the member keeps its address across restarts.
        mine.ipAssignments.push_back(*a);
        ++ms.m.revision;
        break;
      }
    }
  }
}

ConfigReply Controller::answer(int64_t now, NetworkState& n, MemberState& ms) {
  Member& m = ms.m;
  const bool allowed = m.settings.authorized || !n.net.settings.isPrivate;
  ms.sent.any = true;
  ms.sent.epoch = n.epoch;
  if (!allowed) {
    ms.sent.config = false;
    ms.sent.revision = m.revision;
    ConfigReply r;
    r.status = ConfigReply::Status::kAccessDenied;
    return r;
  }
  if (!m.settings.authorized) {  // a public network admits everyone
    m.settings.authorized = true;
    m.lastAuthorizedTime = now;
    m.lastAuthorizedCredentialType = "public";
    ++m.revision;
    if (isBridge(m)) ++n.epoch;
  }
  assignIps(n, ms);

  ConfigReply r;
  r.config = buildConfig(now, n, ms);
  do {
    crypto::randomBytes(reinterpret_cast<uint8_t*>(&r.updateId), sizeof r.updateId);
  } while (r.updateId == 0);
  r.chunks = vl2::buildChunks(r.config.serialize(), n.net.id, r.updateId, identity_);
  if (r.chunks.empty()) return {};  // unreachable with valid settings and a secret key
  r.status = ConfigReply::Status::kConfig;
  ms.sent.config = true;
  ms.sent.epoch = n.epoch;
  ms.sent.revision = m.revision;
  return r;
}

std::string nwidToString(uint64_t nwid) {
  uint8_t b[8];
  util::writeBigEndian(b, nwid, 8);
  std::string s;
  util::appendHex(s, b, 8);
  return s;
}

std::optional<uint64_t> parseNwid(std::string_view text) {
  return parseHexExact(text, 16);
}

std::optional<uint64_t> parseMemberAddress(std::string_view text) {
  auto a = parseHexExact(text, 10);
  if (!a || vl1::isReservedAddress(*a)) return std::nullopt;
  return a;
}

}  // namespace zts::lab
