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

inline const char* kVl2IdentityA = kIdentityA;
inline const char* kVl2IdentityB = kIdentityB;

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
