// A token bucket on the core's clock: `burst` actions at once, then `perSecond` on average.
// Node-wide budgets for work a stranger can make us do (new identities to check, key
// agreements for HELLOs from unknown identities), so a flood costs bounded CPU.
#pragma once

#include <algorithm>
#include <cstdint>

namespace zts::vl1 {

class RateBudget {
 public:
  RateBudget(double perSecond, double burst)
      : perSecond_(perSecond), burst_(burst), tokens_(burst) {}

  // Spends one token if there is one.
  bool take(int64_t now) {
    if (last_ != 0 && now > last_)
      tokens_ = std::min(burst_, tokens_ + static_cast<double>(now - last_) * perSecond_ / 1000.0);
    last_ = now;
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double perSecond_;
  double burst_;
  double tokens_;
  int64_t last_ = 0;
};

}  // namespace zts::vl1
