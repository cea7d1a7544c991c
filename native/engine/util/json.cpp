#include "json.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace zts::util::json {
namespace {

const std::string kEmptyString;
const Value::Array kEmptyArray;
const Value::Object kEmptyObject;

void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

class Parser {
 public:
  Parser(std::string_view text, std::string* error) : s_(text), error_(error) {}

  std::optional<Value> run() {
    Value v;
    skipSpace();
    if (!value(v, 0)) return std::nullopt;
    skipSpace();
    if (pos_ != s_.size()) return fail("trailing characters");
    return v;
  }

 private:
  std::nullopt_t fail(const char* what) {
    if (error_ != nullptr && error_->empty()) {
      *error_ = std::string(what) + " at offset " + std::to_string(pos_);
    }
    return std::nullopt;
  }
  bool failed(const char* what) {
    fail(what);
    return false;
  }

  void skipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return failed("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool value(Value& out, size_t depth) {
    if (pos_ >= s_.size()) return failed("unexpected end");
    switch (s_[pos_]) {
      case '{':
        return object(out, depth + 1);
      case '[':
        return array(out, depth + 1);
      case '"': {
        std::string str;
        if (!string(str)) return false;
        out = Value::string(std::move(str));
        return true;
      }
      case 't':
        out = Value::boolean(true);
        return literal("true");
      case 'f':
        out = Value::boolean(false);
        return literal("false");
      case 'n':
        out = Value();
        return literal("null");
      default:
        return number(out);
    }
  }

  bool object(Value& out, size_t depth) {
    if (depth > kMaxDepth) return failed("nesting too deep");
    ++pos_;  // '{'
    out = Value::object();
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return failed("expected a member name");
      std::string key;
      if (!string(key)) return false;
      skipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return failed("expected ':'");
      ++pos_;
      skipSpace();
      Value v;
      if (!value(v, depth)) return false;
      // Appended, not set(): set() would rescan the members, quadratic on a hostile body.
      out.append(std::move(key), std::move(v));
      skipSpace();
      if (pos_ >= s_.size()) return failed("unexpected end");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return failed("expected ',' or '}'");
    }
  }

  bool array(Value& out, size_t depth) {
    if (depth > kMaxDepth) return failed("nesting too deep");
    ++pos_;  // '['
    out = Value::array();
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      skipSpace();
      Value v;
      if (!value(v, depth)) return false;
      out.push(std::move(v));
      skipSpace();
      if (pos_ >= s_.size()) return failed("unexpected end");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return failed("expected ',' or ']'");
    }
  }

  bool hex4(uint32_t& out) {
    if (s_.size() - pos_ < 4) return failed("truncated \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      if (d < 0) return failed("bad \\u escape");
      out = (out << 4) | static_cast<uint32_t>(d);
    }
    return true;
  }

  // One UTF-8 sequence starting at pos_ (already known to be >= 0x80): strict, so the
  // strings we store and write back out are always valid UTF-8.
  bool utf8(std::string& out) {
    const auto b0 = static_cast<uint8_t>(s_[pos_]);
    size_t n = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      n = 1, cp = b0 & 0x1f, min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      n = 2, cp = b0 & 0x0f, min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      n = 3, cp = b0 & 0x07, min = 0x10000;
    } else {
      return failed("invalid UTF-8");
    }
    if (s_.size() - pos_ <= n) return failed("invalid UTF-8");
    for (size_t i = 1; i <= n; ++i) {
      const auto b = static_cast<uint8_t>(s_[pos_ + i]);
      if ((b & 0xc0) != 0x80) return failed("invalid UTF-8");
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return failed("invalid UTF-8");
    }
    out.append(s_.substr(pos_, n + 1));
    pos_ += n + 1;
    return true;
  }

  bool string(std::string& out) {
    ++pos_;  // opening quote
    for (;;) {
      if (pos_ >= s_.size()) return failed("unterminated string");
      const auto c = static_cast<uint8_t>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return failed("control character in string");
      if (c >= 0x80) {
        if (!utf8(out)) return false;
        continue;
      }
      ++pos_;
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (pos_ >= s_.size()) return failed("unterminated string");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xdc00 && cp <= 0xdfff) return failed("lone low surrogate");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t low = 0;
            if (s_.substr(pos_, 2) != "\\u") return failed("lone high surrogate");
            pos_ += 2;
            if (!hex4(low)) return false;
            if (low < 0xdc00 || low > 0xdfff) return failed("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          appendUtf8(out, cp);
          break;
        }
        default:
          return failed("bad escape");
      }
    }
  }

  bool digits() {
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }

  bool number(Value& out) {
    const size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size()) return failed("unexpected end");
    if (s_[pos_] == '0') {
      ++pos_;
    } else if (!digits()) {
      return failed("unexpected character");
    }
    bool integral = true;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      integral = false;
      ++pos_;
      if (!digits()) return failed("bad number");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits()) return failed("bad number");
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    if (integral) {
      int64_t i = 0;
      const auto r = std::from_chars(first, last, i);
      if (r.ec == std::errc() && r.ptr == last) {
        out = Value::number(i);
        return true;
      }
    }
    // from_chars, unlike strtod, ignores the C locale (Node may have set one).
    double d = 0;
    const auto r = std::from_chars(first, last, d);
    // Out of range (1e400, and underflows like 1e-400) is refused rather than rounded.
    if (r.ptr != last || r.ec != std::errc() || !std::isfinite(d)) {
      return failed("number out of range");
    }
    out = Value::number(d);
    return true;
  }

  std::string_view s_;
  std::string* error_;
  size_t pos_ = 0;
};

void writeString(std::string& out, const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<uint8_t>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void newline(std::string& out, int indent, size_t depth) {
  if (indent < 0) return;
  out.push_back('\n');
  out.append(static_cast<size_t>(indent) * depth, ' ');
}

void writeValue(std::string& out, const Value& v, int indent, size_t depth) {
  switch (v.type()) {
    case Value::Type::kNull:
      out += "null";
      return;
    case Value::Type::kBool:
      out += v.asBool() ? "true" : "false";
      return;
    case Value::Type::kNumber: {
      char buf[32];
      const auto i = v.asInt();
      const auto r = i ? std::to_chars(buf, buf + sizeof buf, *i)
                       : std::to_chars(buf, buf + sizeof buf, v.asDouble());
      out.append(buf, r.ptr);
      return;
    }
    case Value::Type::kString:
      writeString(out, v.asString());
      return;
    case Value::Type::kArray: {
      const auto& a = v.items();
      out.push_back('[');
      for (size_t k = 0; k < a.size(); ++k) {
        if (k > 0) out.push_back(',');
        newline(out, indent, depth + 1);
        writeValue(out, a[k], indent, depth + 1);
      }
      if (!a.empty()) newline(out, indent, depth);
      out.push_back(']');
      return;
    }
    case Value::Type::kObject: {
      const auto& o = v.members();
      out.push_back('{');
      for (size_t k = 0; k < o.size(); ++k) {
        if (k > 0) out.push_back(',');
        newline(out, indent, depth + 1);
        writeString(out, o[k].first);
        out += indent < 0 ? ":" : ": ";
        writeValue(out, o[k].second, indent, depth + 1);
      }
      if (!o.empty()) newline(out, indent, depth);
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

Value Value::boolean(bool b) {
  Value v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

Value Value::number(int64_t i) {
  Value v;
  v.type_ = Type::kNumber;
  v.isInt_ = true;
  v.int_ = i;
  v.double_ = static_cast<double>(i);
  return v;
}

Value Value::number(double d) {
  Value v;
  v.type_ = Type::kNumber;
  v.double_ = std::isfinite(d) ? d : 0;
  return v;
}

Value Value::string(std::string s) {
  Value v;
  v.type_ = Type::kString;
  v.string_ = std::move(s);
  return v;
}

Value Value::array() {
  Value v;
  v.type_ = Type::kArray;
  return v;
}

Value Value::object() {
  Value v;
  v.type_ = Type::kObject;
  return v;
}

double Value::asDouble() const {
  return type_ == Type::kNumber ? double_ : 0;
}

std::optional<int64_t> Value::asInt() const {
  if (type_ != Type::kNumber) return std::nullopt;
  if (isInt_) return int_;
  // 2800.0 or 2.8e3 is still the integer 2800; 2^63 and beyond are not representable.
  if (double_ != std::floor(double_) || double_ < -9223372036854775808.0 ||
      double_ >= 9223372036854775808.0) {
    return std::nullopt;
  }
  return static_cast<int64_t>(double_);
}

const std::string& Value::asString() const {
  return type_ == Type::kString ? string_ : kEmptyString;
}

const Value::Array& Value::items() const {
  return type_ == Type::kArray ? array_ : kEmptyArray;
}

const Value::Object& Value::members() const {
  return type_ == Type::kObject ? object_ : kEmptyObject;
}

const Value* Value::find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (auto it = object_.rbegin(); it != object_.rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

Value& Value::set(std::string_view key, Value v) {
  if (type_ == Type::kNull) type_ = Type::kObject;
  for (auto& [k, existing] : object_) {
    if (k == key) {
      existing = std::move(v);
      return existing;
    }
  }
  object_.emplace_back(std::string(key), std::move(v));
  return object_.back().second;
}

Value& Value::append(std::string key, Value v) {
  if (type_ == Type::kNull) type_ = Type::kObject;
  object_.emplace_back(std::move(key), std::move(v));
  return object_.back().second;
}

Value& Value::push(Value v) {
  if (type_ == Type::kNull) type_ = Type::kArray;
  array_.push_back(std::move(v));
  return array_.back();
}

std::optional<Value> parse(std::string_view text, std::string* error) {
  if (error != nullptr) error->clear();
  return Parser(text, error).run();
}

std::string write(const Value& v, int indent) {
  std::string out;
  writeValue(out, v, indent, 0);
  return out;
}

}  // namespace zts::util::json
