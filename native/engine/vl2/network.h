// What the node keeps for one joined network: its status and config, the credentials of
// the members we talk to, and the multicast groups it knows (protocol.md §5, §7).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "addresses.h"
#include "certificate_of_membership.h"
#include "config_chunk.h"
#include "network_config.h"
#include "rules.h"

namespace zts::vl2 {

enum class NetworkStatus : uint8_t {
  kRequestingConfiguration,
  kOk,
  kAccessDenied,
  kNotFound,
  kAuthenticationRequired,
};

const char* statusName(NetworkStatus status);

namespace timing {
constexpr int64_t kConfigRefreshMs = 60000;
constexpr int64_t kConfigRetryMs = 2000;         // until a first answer arrives
constexpr int64_t kConfigRefusedRetryMs = 5000;  // stock nodes ask every ping check
constexpr int64_t kMulticastAnnounceMs = 60000;
constexpr int64_t kMulticastLikeExpiryMs = 600000;
constexpr int64_t kGatherIntervalMs = 5000;
constexpr int64_t kGatherWhileWaitingMs = 1000;  // frames wait for members: ask sooner
constexpr int64_t kCredentialPushMinMs = 1000;   // stock peers drop faster pushes
constexpr int64_t kCredentialRefreshMs = 30000;
// Frames from a peer whose credentials have not arrived wait this long for them (stock
// 1.14.1 retries such a packet from its receive queue for 5 s too).
constexpr int64_t kHeldFrameMs = 5000;
constexpr int64_t kPendingMulticastMs = 2000;
}  // namespace timing

struct Member {
  std::optional<CertificateOfMembership> com;
  int64_t credentialsReceived = 0;
  int64_t credentialsPushed = 0;
  int64_t askedForPushAnswered = 0;  // our last push in answer to its NEED_CERTIFICATE
  uint64_t pushedRevision = 0;
  int64_t needCertificateSent = 0;
};

class Network {
 public:
  Network(uint64_t nwid, uint64_t myAddress);

  uint64_t id() const { return nwid_; }
  uint64_t controller() const { return nwid_ >> 24; }
  bool adhoc() const { return (nwid_ >> 56) == 0xff; }
  Mac myMac() const { return myMac_; }

  NetworkStatus status = NetworkStatus::kRequestingConfiguration;
  std::optional<NetworkConfig> config;
  std::optional<std::vector<Rule>> rules;  // parsed from config; nullopt: unreadable, drop all
  ConfigAssembler assembler;
  int64_t lastConfigRequest = 0;
  int64_t lastConfigReceived = 0;
  int64_t lastAnnounce = 0;
  std::unordered_map<uint64_t, Member> members;

  // Group -> member address -> when they last said they want it.
  std::map<MulticastGroup, std::map<uint64_t, int64_t>> groupMembers;
  std::map<MulticastGroup, int64_t> lastGather;
  struct PendingMulticast {
    MulticastGroup group;
    Mac source;
    uint16_t etherType;
    std::vector<uint8_t> payload;
    int64_t queuedAt;
  };
  std::deque<PendingMulticast> pendingMulticast;

  bool isPrivate() const { return config && config->type == NetworkConfig::Type::kPrivate; }
  // Adopts a config and parses its rules (the caller sets the status, so it can report it).
  void apply(NetworkConfig cfg, int64_t now);
  // Whether frames from `address` are acceptable: always on public networks, else its COM
  // must agree with ours (§5.6, §5.8).
  bool allows(uint64_t address, const vl1::Identity& identity) const;
  // The groups we announce with MULTICAST_LIKE (§7.2).
  std::vector<MulticastGroup> subscriptions() const;
  // Members of a group, freshest first, without `except`.
  std::vector<uint64_t> recipients(const MulticastGroup& g, int64_t now, uint64_t except,
                                   size_t limit) const;

 private:
  uint64_t nwid_;
  uint64_t myAddress_;
  Mac myMac_;
};

}  // namespace zts::vl2
