#include "util/json.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "test_support.h"

namespace zts {
namespace {

using util::json::Value;
namespace json = util::json;

TEST(Json, ParsesScalars) {
  EXPECT_TRUE(json::parse("null")->isNull());
  EXPECT_TRUE(json::parse(" true ")->asBool());
  EXPECT_FALSE(json::parse("false")->asBool());
  EXPECT_TRUE(json::parse("false")->isBool());
  EXPECT_EQ(json::parse("0")->asInt(), 0);
  EXPECT_EQ(json::parse("-42")->asInt(), -42);
  EXPECT_EQ(json::parse("1795254852081")->asInt(), 1795254852081);
  EXPECT_EQ(json::parse("9223372036854775807")->asInt(), INT64_MAX);
  EXPECT_EQ(json::parse("-9223372036854775808")->asInt(), INT64_MIN);
  // Beyond int64: still a number, no longer an exact integer.
  const auto big = json::parse("18446744073709551616");
  ASSERT_TRUE(big);
  EXPECT_TRUE(big->isNumber());
  EXPECT_FALSE(big->asInt());
  EXPECT_DOUBLE_EQ(json::parse("2.5")->asDouble(), 2.5);
  EXPECT_FALSE(json::parse("2.5")->asInt());
  EXPECT_EQ(json::parse("2.8e3")->asInt(), 2800);  // integral value written as a float
  EXPECT_EQ(json::parse("2800.0")->asInt(), 2800);
  EXPECT_DOUBLE_EQ(json::parse("-1E-2")->asDouble(), -0.01);
  EXPECT_EQ(json::parse("\"ztlab\"")->asString(), "ztlab");
}

TEST(Json, StringEscapes) {
  const auto v = json::parse(R"("a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00")");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->asString(), "a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  // Raw UTF-8 passes through; the writer escapes only what it must.
  const auto raw = json::parse("\"caf\xc3\xa9\"");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->asString(), "caf\xc3\xa9");
  EXPECT_EQ(json::write(Value::string("q\"\\\n\x01\xc3\xa9")), "\"q\\\"\\\\\\n\\u0001\xc3\xa9\"");
}

TEST(Json, ObjectsAndArrays) {
  const auto v = json::parse(R"({"a": [1, 2, {"b": null}], "c": {}, "d": [], "a": "last"})");
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->isObject());
  EXPECT_EQ(v->members().size(), 4u);
  EXPECT_EQ(v->find("a")->asString(), "last");  // a repeated key: the last one wins
  EXPECT_TRUE(v->find("c")->isObject());
  EXPECT_TRUE(v->find("d")->items().empty());
  EXPECT_EQ(v->find("missing"), nullptr);
  EXPECT_EQ(v->members()[0].second.items().size(), 3u);
  EXPECT_TRUE(v->members()[0].second.items()[2].find("b")->isNull());
  // Accessors of the wrong type are neutral, never throw.
  EXPECT_EQ(v->asString(), "");
  EXPECT_TRUE(v->items().empty());
  EXPECT_EQ(v->find("c")->find("x"), nullptr);
}

TEST(Json, Rejects) {
  for (const char* bad : {
           "",
           " ",
           "{",
           "[1,]",
           "{\"a\":1,}",
           "{\"a\" 1}",
           "{a:1}",
           "[1 2]",
           "01",
           "-",
           "1.",
           ".5",
           "+1",
           "1e",
           "1e400",
           "NaN",
           "tru",
           "nul",
           "\"abc",
           "\"a\\x\"",
           "\"\\u12\"",
           "\"\\ud83d\"",         // lone high surrogate
           "\"\\ude00\"",         // lone low surrogate
           "\"\\ud83d\\u0041\"",  // high surrogate with a non-surrogate
           "\"a\nb\"",            // raw control character
           "\"\xff\"",            // not UTF-8
           "\"\xc0\x80\"",        // overlong
           "\"\xed\xa0\x80\"",    // UTF-8 surrogate
           "\"\xe2\x82\"",        // truncated sequence
           "1 2",
           "{} x",
       }) {
    std::string err;
    EXPECT_FALSE(json::parse(bad, &err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
}

TEST(Json, DepthLimit) {
  const auto nested = [](size_t n) { return std::string(n, '[') + std::string(n, ']'); };
  EXPECT_TRUE(json::parse(nested(json::kMaxDepth)));
  EXPECT_FALSE(json::parse(nested(json::kMaxDepth + 1)));
  EXPECT_FALSE(json::parse(std::string(100000, '[')));  // no stack exhaustion
  std::string objects;
  for (size_t i = 0; i <= json::kMaxDepth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(json::kMaxDepth + 1, '}');
  EXPECT_FALSE(json::parse(objects));
}

TEST(Json, WritesCompactAndPretty) {
  Value v = Value::object();
  v.set("b", Value::boolean(true));
  v.set("n", Value::number(int64_t{-1}));
  v.set("x", Value::number(0.5));
  Value arr = Value::array();
  arr.push(Value::string("s"));
  arr.push(Value());
  v.set("a", std::move(arr));
  v.set("e", Value::array());
  v.set("o", Value::object());
  v.set("b", Value::boolean(false));  // replaces in place
  EXPECT_EQ(json::write(v), R"({"b":false,"n":-1,"x":0.5,"a":["s",null],"e":[],"o":{}})");
  EXPECT_EQ(json::write(v, 2),
            "{\n  \"b\": false,\n  \"n\": -1,\n  \"x\": 0.5,\n  \"a\": [\n    \"s\",\n    null\n"
            "  ],\n  \"e\": [],\n  \"o\": {}\n}");
  const auto back = json::parse(json::write(v, 2));
  ASSERT_TRUE(back);
  EXPECT_EQ(json::write(*back), json::write(v));
}

// The stock controller's own output reads and re-writes byte for byte.
TEST(Json, StockControllerFilesRoundTrip) {
  for (const char* f : {"network-ed0bbf42fd4c870b.json", "member-ed0bbf42fd4c870b-1bde67c0ad.json",
                        "member-ed0bbf42fd4c870b-0f17e50666.json", "controller.json"}) {
    SCOPED_TRACE(f);
    std::string text = test::readSharedText(std::string("vectors/stock/controller/") + f);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    const auto v = json::parse(text);
    ASSERT_TRUE(v);
    EXPECT_EQ(json::write(*v, 2), text);
  }
}

// Random damage to a valid document never crashes the reader (ASan checks the bounds).
TEST(Json, SurvivesDamagedInput) {
  const std::string good =
      test::readSharedText("vectors/stock/controller/network-ed0bbf42fd4c870b.json");
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string s = good.substr(0, rng() % (good.size() + 1));
    for (int k = rng() % 4; k > 0 && !s.empty(); --k)
      s[rng() % s.size()] = static_cast<char>(rng());
    std::string err;
    const auto v = json::parse(s, &err);
    if (v) json::write(*v);
  }
}

}  // namespace
}  // namespace zts
