#include "dictionary.h"

#include <limits>

#include "../util/hex.h"

namespace zts::vl2 {
namespace {

bool validKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (c == '=' || c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

char unescape(char c) {
  switch (c) {
    case '0':
      return '\0';
    case 'r':
      return '\r';
    case 'n':
      return '\n';
    case 'e':
      return '=';
    default:
      return c;  // covers "\\" and any other escaped byte
  }
}

void appendEscaped(std::vector<uint8_t>& out, std::string_view value) {
  for (char ch : value) {
    switch (ch) {
      case '\0':
        out.push_back('\\');
        out.push_back('0');
        break;
      case '\r':
        out.push_back('\\');
        out.push_back('r');
        break;
      case '\n':
        out.push_back('\\');
        out.push_back('n');
        break;
      case '\\':
        out.push_back('\\');
        out.push_back('\\');
        break;
      case '=':
        out.push_back('\\');
        out.push_back('e');
        break;
      default:
        out.push_back(static_cast<uint8_t>(ch));
        break;
    }
  }
}

// Digits of a hex magnitude after strtoull's optional prefix; saturates on overflow.
uint64_t hexMagnitude(std::string_view s, size_t& i, bool& negative) {
  while (i < s.size() && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) ++i;
  negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  if (i + 1 < s.size() && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') && i + 2 < s.size() &&
      util::hexNibble(s[i + 2]) >= 0) {
    i += 2;
  }
  uint64_t v = 0;
  bool overflow = false;
  for (; i < s.size(); ++i) {
    const int d = util::hexNibble(s[i]);
    if (d < 0) break;
    if (v > (std::numeric_limits<uint64_t>::max() >> 4)) overflow = true;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return overflow ? std::numeric_limits<uint64_t>::max() : v;
}

std::string hexDigits(uint64_t v, int digits) {
  std::string s(static_cast<size_t>(digits), '0');
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) {
    s[static_cast<size_t>(i)] = kDigits[v & 0xf];
    v >>= 4;
  }
  return s;
}

}  // namespace

uint64_t parseHexU64(std::string_view s) {
  size_t i = 0;
  bool negative = false;
  const uint64_t mag = hexMagnitude(s, i, negative);
  if (mag == std::numeric_limits<uint64_t>::max()) return mag;  // ERANGE keeps the max
  return negative ? (~mag + 1) : mag;                           // strtoull negates modulo 2^64
}

int64_t parseHexI64(std::string_view s) {
  size_t i = 0;
  bool negative = false;
  const uint64_t mag = hexMagnitude(s, i, negative);
  constexpr uint64_t kMaxPos = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (mag > kMaxPos) return std::numeric_limits<int64_t>::min();
    return -static_cast<int64_t>(mag);
  }
  return mag > kMaxPos ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(mag);
}

Dictionary Dictionary::parse(const uint8_t* data, size_t len) {
  Dictionary d;
  size_t i = 0;
  while (i < len && data[i] != 0) {
    // Key: up to '='; a line break first means a line without a value, which is skipped.
    const size_t keyStart = i;
    while (i < len && data[i] != 0 && data[i] != '=' && data[i] != '\r' && data[i] != '\n') ++i;
    const bool hasValue = i < len && data[i] == '=';
    std::string key(reinterpret_cast<const char*>(data + keyStart), i - keyStart);
    std::string value;
    if (hasValue) {
      ++i;
      bool escaped = false;
      for (; i < len && data[i] != 0; ++i) {
        const char c = static_cast<char>(data[i]);
        if (escaped) {
          value.push_back(unescape(c));
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '\r' || c == '\n') {
          break;
        } else {
          value.push_back(c);
        }
      }
    }
    if (i < len && (data[i] == '\r' || data[i] == '\n')) ++i;
    if (hasValue && !key.empty() && !d.has(key))
      d.entries_.emplace_back(std::move(key), std::move(value));
  }
  return d;
}

const std::string* Dictionary::find(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::optional<std::string> Dictionary::getString(std::string_view key) const {
  const std::string* v = find(key);
  if (v == nullptr) return std::nullopt;
  return *v;
}

std::optional<std::vector<uint8_t>> Dictionary::getBinary(std::string_view key) const {
  const std::string* v = find(key);
  if (v == nullptr) return std::nullopt;
  return std::vector<uint8_t>(v->begin(), v->end());
}

std::optional<uint64_t> Dictionary::getUInt(std::string_view key) const {
  const std::string* v = find(key);
  if (v == nullptr || v->empty()) return std::nullopt;
  return parseHexU64(*v);
}

std::optional<int64_t> Dictionary::getInt(std::string_view key) const {
  const std::string* v = find(key);
  if (v == nullptr || v->empty()) return std::nullopt;
  return parseHexI64(*v);
}

std::optional<bool> Dictionary::getBool(std::string_view key) const {
  const std::string* v = find(key);
  if (v == nullptr || v->empty()) return std::nullopt;
  const char c = (*v)[0];
  return c == '1' || c == 't' || c == 'T';
}

bool Dictionary::add(std::string_view key, std::string_view value) {
  if (!validKey(key) || has(key)) return false;
  entries_.emplace_back(std::string(key), std::string(value));
  return true;
}

bool Dictionary::add(std::string_view key, const uint8_t* value, size_t len) {
  return add(key, std::string_view(reinterpret_cast<const char*>(value), len));
}

bool Dictionary::addUInt(std::string_view key, uint64_t value) {
  return add(key, hexDigits(value, 16));
}

bool Dictionary::addInt(std::string_view key, int64_t value) {
  const uint64_t mag = value < 0 ? ~static_cast<uint64_t>(value) + 1 : static_cast<uint64_t>(value);
  return add(key, (value < 0 ? "-" : "") + hexDigits(mag, 16));
}

bool Dictionary::addAddress(std::string_view key, uint64_t address) {
  return add(key, hexDigits(address & 0xffffffffffULL, 10));
}

std::vector<uint8_t> Dictionary::serialize() const {
  std::vector<uint8_t> out;
  for (const auto& [k, v] : entries_) {
    if (!out.empty()) out.push_back('\n');
    out.insert(out.end(), k.begin(), k.end());
    out.push_back('=');
    appendEscaped(out, v);
  }
  return out;
}

}  // namespace zts::vl2
