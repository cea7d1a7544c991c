// Bounds-checked reading and writing of big-endian wire data. A Reader that runs past its
// end turns "bad" and returns zeros from then on, so a decoder reads a whole structure
// and checks ok() once instead of checking each field (brief, decision 4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace zts::util {

class Reader {
 public:
  Reader(const uint8_t* data, size_t len) : data_(data), len_(len) {}

  bool ok() const { return ok_; }
  size_t offset() const { return pos_; }
  size_t remaining() const { return ok_ ? len_ - pos_ : 0; }
  const uint8_t* cursor() const { return data_ + pos_; }
  void fail() { ok_ = false; }

  uint8_t u8() { return static_cast<uint8_t>(be(1)); }
  uint16_t u16() { return static_cast<uint16_t>(be(2)); }
  uint32_t u32() { return static_cast<uint32_t>(be(4)); }
  uint64_t u40() { return be(5); }
  uint64_t u64() { return be(8); }

  // A view of the next n bytes (nullptr and bad if fewer remain).
  const uint8_t* bytes(size_t n) {
    if (!take(n)) return nullptr;
    return data_ + pos_ - n;
  }
  bool copy(uint8_t* out, size_t n) {
    const uint8_t* p = bytes(n);
    if (p == nullptr) return false;
    std::memcpy(out, p, n);
    return true;
  }
  void skip(size_t n) { take(n); }

 private:
  bool take(size_t n) {
    if (!ok_ || n > len_ - pos_) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  uint64_t be(size_t n) {
    if (!take(n)) return 0;
    uint64_t v = 0;
    for (size_t i = pos_ - n; i < pos_; ++i) v = (v << 8) | data_[i];
    return v;
  }

  const uint8_t* data_;
  size_t len_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Appends big-endian values to a byte vector.
class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { be(v, 2); }
  void u32(uint32_t v) { be(v, 4); }
  void u40(uint64_t v) { be(v, 5); }
  void u64(uint64_t v) { be(v, 8); }
  void bytes(const uint8_t* p, size_t n) { out_.insert(out_.end(), p, p + n); }
  void zeros(size_t n) { out_.insert(out_.end(), n, 0); }
  size_t size() const { return out_.size(); }
  std::vector<uint8_t>& buffer() { return out_; }

 private:
  void be(uint64_t v, size_t n) {
    for (size_t i = n; i-- > 0;) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t>& out_;
};

}  // namespace zts::util
