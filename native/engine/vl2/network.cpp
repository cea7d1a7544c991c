#include "network.h"

#include <algorithm>

namespace zts::vl2 {

const char* statusName(NetworkStatus status) {
  switch (status) {
    case NetworkStatus::kRequestingConfiguration:
      return "REQUESTING_CONFIGURATION";
    case NetworkStatus::kOk:
      return "OK";
    case NetworkStatus::kAccessDenied:
      return "ACCESS_DENIED";
    case NetworkStatus::kNotFound:
      return "NOT_FOUND";
    case NetworkStatus::kAuthenticationRequired:
      return "AUTHENTICATION_REQUIRED";
  }
  return "UNKNOWN";
}

Network::Network(uint64_t nwid, uint64_t myAddress)
    : assembler(nwid), nwid_(nwid), myAddress_(myAddress), myMac_(macFor(myAddress, nwid)) {}

void Network::apply(NetworkConfig cfg, int64_t now) {
  rules = cfg.parsedRules();
  config = std::move(cfg);
  lastConfigReceived = now;
}

bool Network::allows(uint64_t address, const vl1::Identity& identity) const {
  if (!config) return false;
  if (!isPrivate()) return true;
  if (!config->com) return false;
  auto it = members.find(address);
  if (it == members.end() || !it->second.com) return false;
  return config->com->agreesWith(*it->second.com, identity);
}

std::vector<MulticastGroup> Network::subscriptions() const {
  std::vector<MulticastGroup> groups;
  if (!config || config->multicastLimit == 0) return groups;
  const bool ndpEmulated = (config->flags & NetworkConfig::kFlagNdpEmulation) != 0;
  for (const auto& ip : config->staticIps) {
    if (ip.isV4()) {
      groups.push_back(arpGroup(ip.ip()));
    } else if (ip.isV6() && !ndpEmulated) {
      groups.push_back(solicitedNodeGroup(ip.ip()));
    }
  }
  if ((config->flags & NetworkConfig::kFlagEnableBroadcast) != 0) {
    groups.push_back(MulticastGroup{0xffffffffffffULL, 0});
  }
  return groups;
}

std::vector<uint64_t> Network::recipients(const MulticastGroup& g, int64_t now, uint64_t except,
                                          size_t limit) const {
  std::vector<std::pair<int64_t, uint64_t>> found;
  auto it = groupMembers.find(g);
  if (it != groupMembers.end()) {
    for (const auto& [addr, at] : it->second) {
      if (addr != except && addr != myAddress_ && now - at < timing::kMulticastLikeExpiryMs)
        found.emplace_back(at, addr);
    }
  }
  std::sort(found.begin(), found.end(), [](auto& a, auto& b) { return a.first > b.first; });
  std::vector<uint64_t> out;
  for (auto& [at, addr] : found) {
    if (out.size() >= limit) break;
    out.push_back(addr);
  }
  return out;
}

}  // namespace zts::vl2
