// Identity::fromString, the text form of identity files and of the addon's API
// (protocol.md §1.3). Whatever parses must print and parse back to the same identity.
#include <string>

#include "fuzz_support.h"

namespace {

using namespace zts;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto id = vl1::Identity::fromString(text);
  if (!id) return 0;

  const std::string printed = id->toString(true);
  const auto again = vl1::Identity::fromString(printed);
  ZTS_FUZZ_CHECK(again.has_value());
  ZTS_FUZZ_CHECK(again->samePublic(*id));
  ZTS_FUZZ_CHECK(again->hasPrivate() == id->hasPrivate());
  ZTS_FUZZ_CHECK(again->privateKey() == id->privateKey());
  ZTS_FUZZ_CHECK(again->toString(true) == printed);

  // The binary form carries the same identity.
  uint8_t bin[vl1::kIdentityBinarySecretLen];
  const size_t n = id->toBinary(bin, sizeof bin, true);
  ZTS_FUZZ_CHECK(
      n == (id->hasPrivate() ? vl1::kIdentityBinarySecretLen : vl1::kIdentityBinaryPublicLen));
  size_t consumed = 0;
  const auto fromBin = vl1::Identity::fromBinary(bin, n, consumed);
  ZTS_FUZZ_CHECK(fromBin.has_value() && consumed == n && fromBin->samePublic(*id));
  return 0;
}
