// Shared by the fuzz targets: identities A and B with their agreed key, and a property
// check that aborts, so that libFuzzer saves the input that broke a decoder's promise.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "crypto/primitives.h"
#include "vl1/identity.h"

// Unlike assert(), stays on in optimized builds: the fuzzers are built with NDEBUG.
#define ZTS_FUZZ_CHECK(cond)                                                                  \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "fuzz property failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace zts::fuzz {

// Identities A (V1) and B (V2) of /work/shared/vectors/README.md: public test data.
inline constexpr const char* kIdentityA =
    "8e4df28b72:0:ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd97"
    "02cae365f2af5fb4c420908b803a681d4daef6114d78a2d7:bd8dd6e4ce7022d2f812797a80c6ee8ad180dc4ebf30"
    "1dec8b06d1be08832bddd63a2f1cfa7b2c504474c75bdc8898ba476ef92e8e2d0509f8441985171ff16e";
inline constexpr const char* kIdentityB =
    "0b9ec04f21:0:864801cefb83df0e96e5ae162f27115dac7530ce47361695276773e4dce3f169001782068d9c48ba"
    "d9ede39655cd3bd87ae9a00d6e4436096796422afe918051:25555f65b3bc35f0092dc618cb2b0c515061b19e3f55"
    "9a1adf9369f52b822e361da7467c92c7008fdd9ecac17971ba3086e6e75da72c0cd545e4b0daddd93407";

struct Pair {
  vl1::Identity a;
  vl1::Identity b;
  uint8_t key[vl1::kAgreedKeyLen];  // V5; armor uses its first 32 bytes
};

// Built once per process: parsing and key agreement are not what is being fuzzed.
inline const Pair& pair() {
  static const Pair p = [] {
    ZTS_FUZZ_CHECK(crypto::initialize());
    Pair out;
    out.a = *vl1::Identity::fromString(kIdentityA);
    out.b = *vl1::Identity::fromString(kIdentityB);
    ZTS_FUZZ_CHECK(out.b.agree(out.a, out.key));
    return out;
  }();
  return p;
}

}  // namespace zts::fuzz
