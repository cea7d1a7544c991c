// Signed config chunks (protocol.md §3.9): the body of OK(NETWORK_CONFIG_REQUEST) after its
// in-re fields, and of NETWORK_CONFIG. A controller splits the config Dictionary into
// chunks, signs each, and the member reassembles them by offset.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "../vl1/identity.h"

namespace zts::vl2 {

struct ConfigChunk {
  static constexpr uint8_t kFlagFastPropagate = 0x01;
  static constexpr uint8_t kSignatureTypeC25519 = 1;
  // Chunk data per packet: keeps each chunk packet under the 10,024-byte maximum.
  static constexpr size_t kMaxChunkLen = 9740;

  uint64_t networkId = 0;
  std::vector<uint8_t> data;
  // False for the legacy unchunked form (the payload ends right after the data, unsigned),
  // which may be accepted only when it came from the controller itself.
  bool isSigned = false;
  uint8_t flags = 0;
  uint64_t updateId = 0;
  uint32_t totalLength = 0;
  uint32_t offset = 0;
  uint8_t signatureType = 0;
  std::vector<uint8_t> signature;

  // Parses the payload after the OK's in-re verb and id (or a NETWORK_CONFIG payload).
  // Bounds-checked; nullopt on anything truncated. Trailing bytes are ignored.
  static std::optional<ConfigChunk> parse(const uint8_t* payload, size_t len);
  // Signs with the controller identity (sets the signature fields and isSigned).
  bool sign(const vl1::Identity& controller);
  // The controller is the network's (nwid >> 24), the chunk is signed, and the signature
  // over nwid ‖ length ‖ data ‖ flags ‖ update id ‖ total ‖ offset is valid.
  bool verify(const vl1::Identity& controller) const;
  std::vector<uint8_t> serialize() const;

 private:
  std::vector<uint8_t> signedPart() const;
};

// Splits a config dictionary into signed chunk payloads (as parse() reads them), all with
// `updateId`. Empty when the controller cannot sign, is not the network's controller,
// `maxChunk` is 0 or above kMaxChunkLen, `updateId` is 0 or the dictionary is empty or
// larger than ConfigAssembler::kMaxTotalLength.
std::vector<std::vector<uint8_t>> buildChunks(const std::vector<uint8_t>& dict, uint64_t nwid,
                                              uint64_t updateId, const vl1::Identity& controller,
                                              size_t maxChunk = ConfigChunk::kMaxChunkLen,
                                              uint8_t flags = 0);

// Reassembles chunks of one network's config updates. Chunks must be verified first.
class ConfigAssembler {
 public:
  // Updates being assembled at once; a newer update evicts the oldest.
  static constexpr size_t kMaxInProgress = 4;
  // Upper bound of a config dictionary (stock configs are a few KB; large rule sets reach
  // a few hundred KB), so that a bogus total cannot make us allocate without limit.
  static constexpr uint32_t kMaxTotalLength = 1024 * 1024;
  // Finished update ids remembered so that a re-sent chunk does not start them over.
  static constexpr size_t kRememberedDone = 8;

  explicit ConfigAssembler(uint64_t nwid) : nwid_(nwid) {}

  // Adds a chunk; returns the complete dictionary bytes when this chunk completes its
  // update. Ignored (nullopt): other network, zero or inconsistent total, offset + length
  // beyond the total, empty or overlapping chunks (duplicates), finished updates. A legacy
  // unsigned chunk is complete by itself.
  std::optional<std::vector<uint8_t>> add(const ConfigChunk& chunk);

  size_t inProgress() const { return updates_.size(); }

 private:
  struct Update {
    uint64_t id = 0;
    uint32_t total = 0;
    uint32_t received = 0;
    std::map<uint32_t, uint32_t> ranges;  // offset -> length of every chunk placed
    std::vector<uint8_t> bytes;
  };

  bool overlaps(const Update& u, uint32_t offset, uint32_t len) const;

  uint64_t nwid_;
  std::deque<Update> updates_;  // oldest first
  std::deque<uint64_t> done_;
};

}  // namespace zts::vl2
