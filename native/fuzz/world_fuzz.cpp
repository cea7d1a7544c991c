// World (planet/moon) parsing (protocol.md §6.1). A World that parses must serialize to
// something that parses back to the same World; its signature check and the update rule
// must run on it without trouble (they cannot be satisfied by the fuzzer, only survived).
#include "fuzz_support.h"
#include "vl1/world.h"

namespace {

using namespace zts;

volatile bool gSink;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t consumed = 0;
  const auto w = vl1::World::parse(data, size, &consumed);
  if (!w) return 0;
  ZTS_FUZZ_CHECK(consumed <= size);
  ZTS_FUZZ_CHECK(w->roots().size() <= vl1::World::kMaxRoots);
  for (const auto& root : w->roots()) {
    ZTS_FUZZ_CHECK(root.stableEndpoints.size() <= vl1::World::kMaxEndpointsPerRoot);
    ZTS_FUZZ_CHECK(!root.identity.hasPrivate());
  }

  // Reserved endpoint types re-serialize as nil, so compare the re-serialized forms.
  const std::vector<uint8_t> bytes = w->serialize();
  size_t again = 0;
  const auto w2 = vl1::World::parse(bytes.data(), bytes.size(), &again);
  ZTS_FUZZ_CHECK(w2.has_value());
  ZTS_FUZZ_CHECK(again == bytes.size());
  ZTS_FUZZ_CHECK(w2->serialize() == bytes);

  gSink = w->verifySignature(w->updatesMustBeSignedBy().data());
  gSink = vl1::World::earth().acceptsUpdate(*w);
  return 0;
}
