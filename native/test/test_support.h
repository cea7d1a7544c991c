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
