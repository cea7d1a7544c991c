// Why packets were dropped, counted per reason for tests and troubleshooting.
#pragma once

#include <array>
#include <cstdint>

namespace zts::vl1 {

enum class Drop : uint8_t {
  kTooShort,
  kFromSelf,
  kNotForUs,
  kBadMac,
  kUnsupportedCipher,
  kBadCompression,
  kMalformed,
  kUnexpectedReply,
  kUnknownPeerQueueFull,
  kQueueTimeout,
  kInvalidIdentity,
  kIdentityCollision,
  kRateLimited,
  kBadFragment,
  kFragmentTimeout,
  kRelayHopLimit,
  kRelayUnknownDestination,
  kNotFromRoot,
  kBadWorld,
  kOldProtocol,
  kUnhandledVerb,
  kNoSuchNetwork,
  kNotAMember,
  kRulesDrop,
  kRulesUnsupported,
  kBadConfig,
  kNotFromController,
  kNoMulticastRecipients,
  // Hostile-input defences (issue 11, item 5):
  kReplayed,                 // an authenticated packet id this peer already sent us
  kNewIdentityRateLimited,   // over the node-wide budget of new identities to check
  kIdentityChecksBusy,       // too many identity checks already in progress
  kPeerTableFull,            // no room for another peer
  kFragmentEvicted,          // an incomplete packet pushed out of a full reassembly table
  kUnknownHelloRateLimited,  // over the node-wide budget of HELLOs from unknown identities
  kCount,
};

inline const char* dropName(Drop d) {
  static constexpr const char* kNames[] = {
      "too_short",
      "from_self",
      "not_for_us",
      "bad_mac",
      "unsupported_cipher",
      "bad_compression",
      "malformed",
      "unexpected_reply",
      "unknown_peer_queue_full",
      "queue_timeout",
      "invalid_identity",
      "identity_collision",
      "rate_limited",
      "bad_fragment",
      "fragment_timeout",
      "relay_hop_limit",
      "relay_unknown_destination",
      "not_from_root",
      "bad_world",
      "old_protocol",
      "unhandled_verb",
      "no_such_network",
      "not_a_member",
      "rules_drop",
      "rules_unsupported",
      "bad_config",
      "not_from_controller",
      "no_multicast_recipients",
      "replayed",
      "new_identity_rate_limited",
      "identity_checks_busy",
      "peer_table_full",
      "fragment_evicted",
      "unknown_hello_rate_limited",
  };
  static_assert(sizeof kNames / sizeof kNames[0] == static_cast<size_t>(Drop::kCount));
  return kNames[static_cast<size_t>(d)];
}

struct Counters {
  std::array<uint64_t, static_cast<size_t>(Drop::kCount)> dropped{};
  uint64_t datagramsIn = 0;
  uint64_t datagramsOut = 0;
  uint64_t packetsIn = 0;
  uint64_t packetsOut = 0;
  uint64_t relayed = 0;

  void drop(Drop d) { ++dropped[static_cast<size_t>(d)]; }
  uint64_t dropsOf(Drop d) const { return dropped[static_cast<size_t>(d)]; }
};

}  // namespace zts::vl1
