// Our use of nlohmann-json (util/json.h): what the controller relies on from it. The reader
// refuses what it must, limits nesting, never throws; the writer matches the stock
// controller's files byte for byte.
#include "util/json.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "test_support.h"

namespace zts {
namespace {

namespace json = util::json;
using json::Value;

TEST(Json, ExactIntegers) {
  EXPECT_EQ(json::exactInt(*json::parse("0")), 0);
  EXPECT_EQ(json::exactInt(*json::parse("-42")), -42);
  EXPECT_EQ(json::exactInt(*json::parse("1795254852081")), 1795254852081);
  EXPECT_EQ(json::exactInt(*json::parse("9223372036854775807")), INT64_MAX);
  EXPECT_EQ(json::exactInt(*json::parse("-9223372036854775808")), INT64_MIN);
  // Beyond int64 (unsigned or float): still a number, no longer an exact integer.
  for (const char* big : {"9223372036854775808", "18446744073709551615", "18446744073709551616",
                          "9.3e18", "-9.3e18"}) {
    const auto v = json::parse(big);
    ASSERT_TRUE(v) << big;
    EXPECT_TRUE(v->is_number()) << big;
    EXPECT_FALSE(json::exactInt(*v)) << big;
  }
  EXPECT_FALSE(json::exactInt(*json::parse("2.5")));
  EXPECT_EQ(json::exactInt(*json::parse("2.8e3")), 2800);  // integral value written as a float
  EXPECT_EQ(json::exactInt(*json::parse("2800.0")), 2800);
  for (const char* other : {"null", "true", "\"1\"", "[1]", "{}"})
    EXPECT_FALSE(json::exactInt(*json::parse(other))) << other;
}

TEST(Json, FindAndStringOrAreNeutralOnOtherTypes) {
  const auto v = json::parse(R"({"a": [1, {"b": null}], "c": {}, "s": "x", "a": "last"})");
  ASSERT_TRUE(v);
  EXPECT_EQ(json::stringOr(json::find(*v, "a")), "last");  // a repeated key: the last one wins
  EXPECT_EQ(json::stringOr(json::find(*v, "s")), "x");
  EXPECT_EQ(json::find(*v, "missing"), nullptr);
  EXPECT_EQ(json::find(*json::find(*v, "c"), "x"), nullptr);
  EXPECT_EQ(json::find(Value::array(), "a"), nullptr);  // not an object: no member, no throw
  EXPECT_EQ(json::find(Value(), "a"), nullptr);
  EXPECT_EQ(json::stringOr(json::find(*v, "c")), "");
  EXPECT_EQ(json::stringOr(nullptr), "");
}

TEST(Json, StringsAreDecodedAndWrittenBack) {
  const auto v = json::parse(R"("a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00")");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->get<std::string>(), "a\"b\\c/d\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  EXPECT_EQ(json::write(Value("q\"\\\n\x01\xc3\xa9")), "\"q\\\"\\\\\\n\\u0001\xc3\xa9\"");
  // Bytes that are not UTF-8 (a network name from a hostile controller) never make the
  // writer throw, and what it writes parses.
  const std::string written = json::write(Value("bad\xff\xc0 name"));
  EXPECT_TRUE(json::parse(written)) << written;
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
  std::string err;
  EXPECT_FALSE(json::parse(nested(json::kMaxDepth + 1), &err));
  EXPECT_NE(err.find("nesting"), std::string::npos) << err;
  EXPECT_FALSE(json::parse(std::string(1000000, '[')));  // stops at the limit, not the end
  std::string objects;
  for (size_t i = 0; i <= json::kMaxDepth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(json::kMaxDepth + 1, '}');
  EXPECT_FALSE(json::parse(objects));
}

TEST(Json, WritesCompactAndPrettyWithSortedKeys) {
  Value v = Value::object();
  v["n"] = -1;
  v["b"] = true;
  v["x"] = 0.5;
  v["a"] = Value::array({"s", nullptr});
  v["e"] = Value::array();
  v["o"] = Value::object();
  v["b"] = false;  // replaces
  EXPECT_EQ(json::write(v), R"({"a":["s",null],"b":false,"e":[],"n":-1,"o":{},"x":0.5})");
  EXPECT_EQ(json::write(v, 2),
            "{\n  \"a\": [\n    \"s\",\n    null\n  ],\n  \"b\": false,\n  \"e\": [],\n"
            "  \"n\": -1,\n  \"o\": {},\n  \"x\": 0.5\n}");
  const auto back = json::parse(json::write(v, 2));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, v);
}

// The stock controller's own files (nlohmann-json's output, keys sorted) read and re-write
// byte for byte. (Its GET /controller answer, controller.json, is written by hand in another
// order; controller-api.cpp writes that one the same way.)
TEST(Json, StockControllerFilesRoundTrip) {
  for (const char* f : {"network-ed0bbf42fd4c870b.json", "member-ed0bbf42fd4c870b-1bde67c0ad.json",
                        "member-ed0bbf42fd4c870b-0f17e50666.json"}) {
    SCOPED_TRACE(f);
    std::string text = test::readSharedText(std::string("vectors/stock/controller/") + f);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    const auto v = json::parse(text);
    ASSERT_TRUE(v);
    EXPECT_EQ(json::write(*v, 2), text);
  }
}

// Random damage to a valid document never throws out of parse() nor crashes (ASan).
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
    if (v) {
      EXPECT_TRUE(json::parse(json::write(*v)));
    } else {
      EXPECT_FALSE(err.empty());
    }
  }
}

}  // namespace
}  // namespace zts
