// A small JSON reader and writer for the lab controller's HTTP bodies and state file: objects,
// arrays, strings with escapes, numbers, true/false/null. The reader is bounds-checked, never
// throws, validates UTF-8 and limits nesting, because it reads whatever an HTTP client posts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zts::util::json {

class Value {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<Value>;
  // Insertion order is kept (the writer emits members in it); a key may repeat after
  // parsing, and find() then returns the last occurrence, as most JSON readers do.
  using Object = std::vector<std::pair<std::string, Value>>;

  Value() = default;  // null
  // Factories rather than converting constructors: with those, 0 or "x" would pick
  // surprising overloads (bool, pointer).
  static Value null() { return Value(); }
  static Value boolean(bool b);
  static Value number(int64_t v);
  static Value number(double v);
  static Value string(std::string s);
  static Value array();
  static Value object();

  Type type() const { return type_; }
  bool isNull() const { return type_ == Type::kNull; }
  bool isBool() const { return type_ == Type::kBool; }
  bool isNumber() const { return type_ == Type::kNumber; }
  bool isString() const { return type_ == Type::kString; }
  bool isArray() const { return type_ == Type::kArray; }
  bool isObject() const { return type_ == Type::kObject; }

  // Accessors return a neutral value (false, 0, empty) for the wrong type.
  bool asBool() const { return type_ == Type::kBool && bool_; }
  double asDouble() const;
  // The number as an exact integer: nullopt for non-numbers, fractions and values out of range.
  std::optional<int64_t> asInt() const;
  const std::string& asString() const;
  const Array& items() const;
  const Object& members() const;

  // Member lookup (objects only): the last member with this key, or nullptr.
  const Value* find(std::string_view key) const;
  // Replaces the member `key` or appends it; turns a null value into an object first.
  Value& set(std::string_view key, Value v);
  // Appends a member without looking for an existing one (find() sees the last).
  Value& append(std::string key, Value v);
  // Appends to an array; turns a null value into an array first.
  Value& push(Value v);

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  bool isInt_ = false;  // number held exactly in int_
  int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  Array array_;
  Object object_;
};

// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
constexpr size_t kMaxDepth = 64;

// Parses one JSON text (white space around it allowed, nothing else). On failure returns
// nullopt and, when `error` is given, a message with the byte offset.
std::optional<Value> parse(std::string_view text, std::string* error = nullptr);

// Serializes `v`. indent < 0: compact; otherwise pretty-printed with that many spaces per
// level ("key": value, empty containers as [] and {}), like the stock controller's output.
std::string write(const Value& v, int indent = -1);

}  // namespace zts::util::json
