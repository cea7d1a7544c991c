#include "json.h"

#include <cmath>
#include <limits>

namespace zts::util::json {

std::optional<Value> parse(std::string_view text, std::string* error) {
  // nlohmann has no depth limit of its own; its parser callback sees every container open,
  // and throwing from it stops the parse at the first level too deep.
  struct TooDeep {};
  const Value::parser_callback_t limitDepth = [](int depth, Value::parse_event_t event, Value&) {
    if ((event == Value::parse_event_t::object_start ||
         event == Value::parse_event_t::array_start) &&
        static_cast<size_t>(depth) >= kMaxDepth) {
      throw TooDeep{};
    }
    return true;
  };
  try {
    return Value::parse(text.begin(), text.end(), limitDepth);
  } catch (const TooDeep&) {
    if (error != nullptr) *error = "nesting deeper than " + std::to_string(kMaxDepth);
  } catch (const Value::exception& e) {
    if (error != nullptr) *error = e.what();
  }
  return std::nullopt;
}

std::string write(const Value& v, int indent) {
  return v.dump(indent, ' ', false, Value::error_handler_t::replace);
}

const Value* find(const Value& o, std::string_view key) {
  if (!o.is_object()) return nullptr;
  const auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

std::optional<int64_t> exactInt(const Value& v) {
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    // [-2^63, 2^63): the doubles that convert to int64 exactly when integral.
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || std::trunc(d) != d) {
      return std::nullopt;
    }
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

const std::string& stringOr(const Value* v) {
  static const std::string kEmpty;
  return v != nullptr && v->is_string() ? v->get_ref<const std::string&>() : kEmpty;
}

}  // namespace zts::util::json
