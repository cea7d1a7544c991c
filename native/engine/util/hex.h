#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace zts::util {

inline int hexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes exactly out.size()*2 hex digits; false on any other length or a non-hex digit.
inline bool decodeHex(std::string_view text, uint8_t* out, size_t outLen) {
  if (text.size() != outLen * 2) return false;
  for (size_t i = 0; i < outLen; ++i) {
    const int hi = hexNibble(text[2 * i]);
    const int lo = hexNibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return true;
}

inline void appendHex(std::string& out, const uint8_t* data, size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
}

// Reads `len` (<= 8) bytes as a big-endian unsigned integer.
inline uint64_t readBigEndian(const uint8_t* p, size_t len) {
  uint64_t v = 0;
  for (size_t i = 0; i < len; ++i) v = (v << 8) | p[i];
  return v;
}

inline void writeBigEndian(uint8_t* p, uint64_t v, size_t len) {
  for (size_t i = len; i-- > 0;) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

}  // namespace zts::util
