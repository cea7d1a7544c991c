// The Dictionary: ZeroTier's key=value text format for network configs and config request
// metadata (protocol.md §5.3). Values are escaped byte strings, so they carry binary blobs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zts::vl2 {

class Dictionary {
 public:
  Dictionary() = default;

  // Never fails: lines end at CR or LF, lines without '=' or with an empty key are skipped,
  // escapes are undone, and the first occurrence of a key wins. A raw NUL ends the text,
  // as it does for stock nodes, which keep the dictionary as a C string.
  static Dictionary parse(const uint8_t* data, size_t len);
  static Dictionary parse(std::string_view text) {
    return parse(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  }

  bool has(std::string_view key) const { return find(key) != nullptr; }
  // The unescaped value (any bytes), or nullptr when the key is absent.
  const std::string* find(std::string_view key) const;
  std::optional<std::string> getString(std::string_view key) const;
  std::optional<std::vector<uint8_t>> getBinary(std::string_view key) const;
  // Hex integers read like strtoull(value, 16): optional blanks, sign and 0x, then digits up
  // to the first non-hex character (none: 0), saturating at the maximum. nullopt when the
  // key is absent or its value empty (stock readers then use their default).
  std::optional<uint64_t> getUInt(std::string_view key) const;
  // Like strtoll(value, 16): a leading '-' negates; saturates at the int64 range.
  std::optional<int64_t> getInt(std::string_view key) const;
  // True when the value starts with 1, t or T.
  std::optional<bool> getBool(std::string_view key) const;

  uint64_t getUInt(std::string_view key, uint64_t dflt) const {
    return getUInt(key).value_or(dflt);
  }
  bool getBool(std::string_view key, bool dflt) const { return getBool(key).value_or(dflt); }

  // Writers append in call order. They return false (and add nothing) for a key that is
  // empty, already present, or contains '=', CR, LF or NUL (such a key could not be read
  // back).
  bool add(std::string_view key, std::string_view value);
  bool add(std::string_view key, const uint8_t* value, size_t len);
  bool add(std::string_view key, const std::vector<uint8_t>& value) {
    return add(key, value.data(), value.size());
  }
  // 16 zero-padded lowercase hex digits, as 1.14 writes every unsigned integer.
  bool addUInt(std::string_view key, uint64_t value);
  // Magnitude in 16 hex digits with a leading '-' when negative.
  bool addInt(std::string_view key, int64_t value);
  // 10 hex digits: 1.14 writes ZeroTier addresses this way (`id`, `tt`; vectors V15).
  bool addAddress(std::string_view key, uint64_t address);
  bool addBool(std::string_view key, bool value) { return add(key, value ? "1" : "0"); }

  // key=escaped value lines joined by LF, no trailing LF (vectors V13, V15).
  std::vector<uint8_t> serialize() const;

  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// Parses hex like strtoull(s, nullptr, 16) (see Dictionary::getUInt).
uint64_t parseHexU64(std::string_view s);
int64_t parseHexI64(std::string_view s);

}  // namespace zts::vl2
