// LZ4 payloads (protocol.md §3). The input is the LZ4 block of a packet whose verb has the
// compressed flag: it must inflate to at most a whole packet, or be refused. Then the input
// is a plain payload, which must survive compressPayload and uncompressPayload unchanged.
#include <vector>

#include "fuzz_support.h"
#include "vl1/packet.h"

namespace {

using namespace zts;
namespace proto = vl1::proto;

std::vector<uint8_t> packetWith(const uint8_t* payload, size_t size, uint8_t verbByte) {
  std::vector<uint8_t> p;
  vl1::beginPacket(p, 0x5a5a5a5a5a5a5a5a, fuzz::pair().b.address(), fuzz::pair().a.address(),
                   proto::Verb::kMulticastLike);
  p[proto::kIdxVerb] = verbByte;
  p.insert(p.end(), payload, payload + size);
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t verb = static_cast<uint8_t>(proto::Verb::kMulticastLike);

  std::vector<uint8_t> packed = packetWith(data, size, verb | proto::kVerbFlagCompressed);
  if (vl1::uncompressPayload(packed)) {
    ZTS_FUZZ_CHECK(packed.size() >= proto::kHeaderLen && packed.size() <= proto::kMaxPacketLen);
    ZTS_FUZZ_CHECK(packed[proto::kIdxVerb] == verb);
  }

  const std::vector<uint8_t> plain = packetWith(data, size, verb);
  std::vector<uint8_t> p = plain;
  if (vl1::compressPayload(p)) {
    ZTS_FUZZ_CHECK(p.size() < plain.size());
    ZTS_FUZZ_CHECK(p[proto::kIdxVerb] == (verb | proto::kVerbFlagCompressed));
    ZTS_FUZZ_CHECK(vl1::uncompressPayload(p));
  }
  ZTS_FUZZ_CHECK(p == plain);
  return 0;
}
