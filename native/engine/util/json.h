// JSON for the lab controller's HTTP bodies and state file, and for the engine's queries:
// nlohmann-json (Debian nlohmann-json3-dev), with the few rules we need on top of it. Objects
// keep their members sorted by key, as the stock controller (nlohmann-json too) writes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace zts::util::json {

using Value = nlohmann::json;

// Nesting deeper than this is refused: whatever an HTTP client posts, what we keep and walk
// stays shallow (nlohmann's parser itself is iterative, so depth cannot exhaust the stack).
constexpr size_t kMaxDepth = 64;

// Parses one JSON text (white space around it allowed, nothing else; strings must be valid
// UTF-8). Never throws: on failure returns nullopt and, when `error` is given, nlohmann's
// message (it carries the byte position).
std::optional<Value> parse(std::string_view text, std::string* error = nullptr);

// Serializes `v`. indent < 0: compact; otherwise pretty-printed with that many spaces per
// level, like the stock controller's files. Never throws (invalid UTF-8 is replaced).
std::string write(const Value& v, int indent = -1);

// The member `key` of an object, or nullptr (absent, or `o` is not an object).
const Value* find(const Value& o, std::string_view key);

// A number as an exact integer: nullopt for non-numbers, fractions and values outside int64
// (2.8e3 is 2800; 2^63 is not an integer here).
std::optional<int64_t> exactInt(const Value& v);

// The string, or "" for any other type.
const std::string& stringOr(const Value* v);

}  // namespace zts::util::json
