// Worlds (planets): the signed list of roots a node contacts (protocol.md §6.1).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "identity.h"
#include "inet_address.h"

namespace zts::vl1 {

struct WorldRoot {
  Identity identity;
  std::vector<InetAddress> stableEndpoints;
};

class World {
 public:
  enum class Type : uint8_t { kPlanet = 1, kMoon = 127 };
  static constexpr size_t kMaxRoots = 4;
  static constexpr size_t kMaxEndpointsPerRoot = 32;

  // Parses a serialized World; bounds-checked, nullopt on anything malformed. Does not
  // check the signature (see verifySignature). Trailing bytes are allowed; `consumed`
  // tells where the World ended.
  static std::optional<World> parse(const uint8_t* data, size_t len, size_t* consumed = nullptr);
  // The Earth planet every stock node ships with.
  static const World& earth();
  // Builds and signs a World with `signingKey` (public 64 ‖ private 64, the
  // current.c25519 layout), whose public half is also the next update key unless
  // `nextUpdateKey` is given. nullopt when the roots exceed kMaxRoots or
  // kMaxEndpointsPerRoot, since parse() would then reject the result.
  static std::optional<World> make(Type type, uint64_t id, uint64_t timestamp,
                                   const std::vector<WorldRoot>& roots,
                                   const uint8_t signingKey[128],
                                   const uint8_t* nextUpdateKey = nullptr);

  std::vector<uint8_t> serialize() const;
  // Whether `signature` is valid for the signed form under `signerPublic` (64 bytes,
  // X25519 ‖ Ed25519 layout; the Ed25519 half verifies).
  bool verifySignature(const uint8_t signerPublic[64]) const;
  // Whether `update` may replace this world: same id and type, newer, and signed by
  // this world's updates-must-be-signed-by key.
  bool acceptsUpdate(const World& update) const;

  Type type() const { return type_; }
  uint64_t id() const { return id_; }
  uint64_t timestamp() const { return timestamp_; }
  const std::array<uint8_t, 64>& updatesMustBeSignedBy() const { return updateKey_; }
  const std::array<uint8_t, 96>& signature() const { return signature_; }
  const std::vector<WorldRoot>& roots() const { return roots_; }

 private:
  std::vector<uint8_t> signedForm() const;
  void serializeBody(std::vector<uint8_t>& out, bool forSign) const;

  Type type_ = Type::kPlanet;
  uint64_t id_ = 0;
  uint64_t timestamp_ = 0;
  std::array<uint8_t, 64> updateKey_{};
  std::array<uint8_t, 96> signature_{};
  std::vector<WorldRoot> roots_;
};

}  // namespace zts::vl1
