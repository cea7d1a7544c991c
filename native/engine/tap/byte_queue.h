// A FIFO of bytes in chunks: what a socket holds beyond lwIP's own send buffer. Appends
// copy once; the front is handed to tcp_write as a contiguous span, so nothing moves per
// byte.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace zts::tap {

class ByteQueue {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void append(const uint8_t* data, size_t len) {
    if (len == 0) return;
    // Small writes join the last chunk so that the front spans stay large.
    if (!chunks_.empty() && chunks_.back().size() < kChunk) {
      auto& last = chunks_.back();
      const size_t n = std::min(len, kChunk - last.size());
      last.insert(last.end(), data, data + n);
      data += n;
      len -= n;
      size_ += n;
    }
    if (len == 0) return;
    chunks_.emplace_back(data, data + len);
    size_ += len;
  }

  // The contiguous bytes at the front (empty when the queue is).
  const uint8_t* frontData() const {
    return chunks_.empty() ? nullptr : chunks_.front().data() + head_;
  }
  size_t frontSize() const { return chunks_.empty() ? 0 : chunks_.front().size() - head_; }

  void consume(size_t n) {
    while (n > 0 && !chunks_.empty()) {
      const size_t take = std::min(n, frontSize());
      head_ += take;
      size_ -= take;
      n -= take;
      if (head_ == chunks_.front().size()) {
        chunks_.pop_front();
        head_ = 0;
      }
    }
  }

 private:
  static constexpr size_t kChunk = 64 * 1024;
  std::deque<std::vector<uint8_t>> chunks_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace zts::tap
