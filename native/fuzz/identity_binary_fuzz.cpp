// Identity::fromBinary, as HELLO, OK(WHOIS) and Worlds carry identities (protocol.md §1.3).
// The input is read as consecutive identities the way OK(WHOIS) is; each one that parses
// must serialize back to exactly the bytes it was read from.
#include <cstring>

#include "fuzz_support.h"

namespace {

using namespace zts;

volatile bool gSink;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t pos = 0;
  while (pos < size) {
    size_t consumed = 0;
    const auto id = vl1::Identity::fromBinary(data + pos, size - pos, consumed);
    if (!id) break;
    ZTS_FUZZ_CHECK(consumed == vl1::kIdentityBinaryPublicLen ||
                   consumed == vl1::kIdentityBinarySecretLen);
    ZTS_FUZZ_CHECK(consumed <= size - pos);
    uint8_t bin[vl1::kIdentityBinarySecretLen];
    ZTS_FUZZ_CHECK(id->toBinary(bin, sizeof bin, true) == consumed);
    ZTS_FUZZ_CHECK(std::memcmp(bin, data + pos, consumed) == 0);
    ZTS_FUZZ_CHECK(vl1::Identity::fromString(id->toString(true)).has_value());
    // Key agreement with a hostile public key (low-order points included) must not
    // misbehave; the core does this for every new identity before checking it.
    uint8_t key[vl1::kAgreedKeyLen];
    gSink = fuzz::pair().b.agree(*id, key);
    pos += consumed;
  }
  return 0;
}
