// Shared inputs of the VL2 tests: identities A and B (vectors V1, V2, with their private
// keys), the lab controller of the stock data, and blocks of the vectors README.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/primitives.h"
#include "test_support.h"
#include "vl1/identity.h"
#include "vl1/world.h"

namespace zts::test {

inline const char* kVl2IdentityA =
    "8e4df28b72:0:ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd97"
    "02cae365f2af5fb4c420908b803a681d4daef6114d78a2d7:bd8dd6e4ce7022d2f812797a80c6ee8ad180dc4ebf30"
    "1dec8b06d1be08832bddd63a2f1cfa7b2c504474c75bdc8898ba476ef92e8e2d0509f8441985171ff16e";
inline const char* kVl2IdentityB =
    "0b9ec04f21:0:864801cefb83df0e96e5ae162f27115dac7530ce47361695276773e4dce3f169001782068d9c48ba"
    "d9ede39655cd3bd87ae9a00d6e4436096796422afe918051:25555f65b3bc35f0092dc618cb2b0c515061b19e3f55"
    "9a1adf9369f52b822e361da7467c92c7008fdd9ecac17971ba3086e6e75da72c0cd545e4b0daddd93407";

// Network 8e4df28b72000001, whose controller is A (V14..V16).
constexpr uint64_t kVl2Nwid = 0x8e4df28b72000001ULL;
constexpr uint64_t kVl2Timestamp = 1700000000000ULL;
constexpr uint64_t kVl2MaxDelta = 1800000;

inline vl1::Identity identityA() {
  crypto::initialize();
  return *vl1::Identity::fromString(kVl2IdentityA);
}
inline vl1::Identity identityB() {
  crypto::initialize();
  return *vl1::Identity::fromString(kVl2IdentityB);
}

// The n-th (0-based) fenced hex block under "## <name> " in vectors/README.md, decoded.
inline std::vector<uint8_t> vectorBlock(const std::string& name, int n = 0) {
  const std::string text = readSharedText("vectors/README.md");
  size_t pos = text.find("## " + name + " ");
  if (pos == std::string::npos) throw std::runtime_error("no vector " + name);
  for (int i = 0; i <= n; ++i) {
    pos = text.find("```", pos);
    if (pos == std::string::npos) throw std::runtime_error("no block in " + name);
    const size_t end = text.find("```", pos + 3);
    if (i == n) return hex(text.substr(pos + 3, end - pos - 3));
    pos = end + 3;
  }
  return {};
}

// The lab controller ed0bbf42fd of the stock data is also the root of the lab planet.
inline vl1::Identity stockController() {
  crypto::initialize();
  const auto planet = readSharedFile("vectors/stock/planet/planet.bin");
  const auto world = vl1::World::parse(planet.data(), planet.size());
  if (!world || world->roots().empty()) throw std::runtime_error("lab planet");
  return world->roots()[0].identity;
}

constexpr uint64_t kStockNwid = 0xed0bbf42fd4c870bULL;
inline const char* kStockClientConf =
    "vectors/stock/controller/netconf/client-8b83622530.ed0bbf42fd4c870b.conf";
inline const char* kStockServerConf =
    "vectors/stock/controller/netconf/server-1bde67c0ad.ed0bbf42fd4c870b.conf";

// The "identity" field of a member JSON file.
inline vl1::Identity stockMember(const std::string& address) {
  const std::string json =
      readSharedText("vectors/stock/controller/member-ed0bbf42fd4c870b-" + address + ".json");
  const std::string key = "\"identity\": \"";
  const size_t start = json.find(key);
  if (start == std::string::npos) throw std::runtime_error("member identity");
  const size_t end = json.find('"', start + key.size());
  return *vl1::Identity::fromString(json.substr(start + key.size(), end - start - key.size()));
}

}  // namespace zts::test
