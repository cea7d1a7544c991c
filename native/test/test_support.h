// Helpers for the engine's native tests: hex literals and the shared vector files.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/hex.h"

namespace zts::test {

// Identities A and B of the golden vectors (vectors/README.md V1, V2), with private keys.
inline const char* kIdentityA =
    "8e4df28b72:0:ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd97"
    "02cae365f2af5fb4c420908b803a681d4daef6114d78a2d7:bd8dd6e4ce7022d2f812797a80c6ee8ad180dc4ebf30"
    "1dec8b06d1be08832bddd63a2f1cfa7b2c504474c75bdc8898ba476ef92e8e2d0509f8441985171ff16e";
inline const char* kIdentityB =
    "0b9ec04f21:0:864801cefb83df0e96e5ae162f27115dac7530ce47361695276773e4dce3f169001782068d9c48ba"
    "d9ede39655cd3bd87ae9a00d6e4436096796422afe918051:25555f65b3bc35f0092dc618cb2b0c515061b19e3f55"
    "9a1adf9369f52b822e361da7467c92c7008fdd9ecac17971ba3086e6e75da72c0cd545e4b0daddd93407";

// Hex with optional white space (vectors are wrapped across lines in the README).
inline std::vector<uint8_t> hex(const std::string& text) {
  std::string digits;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) digits.push_back(c);
  std::vector<uint8_t> out(digits.size() / 2);
  if (digits.size() % 2 != 0 || !util::decodeHex(digits, out.data(), out.size())) {
    throw std::invalid_argument("bad hex literal");
  }
  return out;
}

inline std::string toHex(const uint8_t* p, size_t n) {
  std::string s;
  util::appendHex(s, p, n);
  return s;
}
inline std::string toHex(const std::vector<uint8_t>& v) {
  return toHex(v.data(), v.size());
}

inline std::string sharedDir() {
  const char* env = std::getenv("ZTS_SHARED_DIR");
  return env != nullptr ? env : ZTS_SHARED_DIR;
}

inline std::vector<uint8_t> readSharedFile(const std::string& relative) {
  const std::string path = sharedDir() + "/" + relative;
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline std::string readSharedText(const std::string& relative) {
  auto bytes = readSharedFile(relative);
  return {bytes.begin(), bytes.end()};
}

}  // namespace zts::test
