#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "test_support.h"
#include "vl2/dictionary.h"
#include "vl2_test_vectors.h"

namespace zts {
namespace {

using vl2::Dictionary;

std::string str(const std::vector<uint8_t>& v) {
  return {v.begin(), v.end()};
}

TEST(Vl2Dictionary, WriterMatchesV13) {
  Dictionary d;
  ASSERT_TRUE(d.addUInt("v", 7));
  ASSERT_TRUE(d.addUInt("nwid", 0x8056c2e21c000001ULL));
  ASSERT_TRUE(d.add("n", "my net"));
  ASSERT_TRUE(d.add("I", test::hex("000d0a5c3d41ff")));
  EXPECT_EQ(test::toHex(d.serialize()), test::toHex(test::vectorBlock("V13")));
}

TEST(Vl2Dictionary, ReaderUndoesV13) {
  const auto bytes = test::vectorBlock("V13");
  const auto d = Dictionary::parse(bytes.data(), bytes.size());
  EXPECT_EQ(d.size(), 4u);
  EXPECT_EQ(d.getUInt("v"), 7u);
  EXPECT_EQ(d.getUInt("nwid"), 0x8056c2e21c000001ULL);
  EXPECT_EQ(d.getString("n"), "my net");
  EXPECT_EQ(test::toHex(*d.getBinary("I")), "000d0a5c3d41ff");
  EXPECT_FALSE(d.has("x"));
  EXPECT_EQ(d.serialize(), bytes);
}

TEST(Vl2Dictionary, ParseRules) {
  // CR ends a line like LF; first occurrence wins; lines without '=' and empty keys are
  // skipped; \e is '=', backslash + other is that char; a trailing backslash is dropped.
  const auto d = Dictionary::parse("a=1\rb=x\\ey\\q\\\\\r\nnoequals\n=nokey\na=2\nc=\\\nd=tail\\");
  EXPECT_EQ(d.getString("a"), "1");
  EXPECT_EQ(d.getString("b"), "x=yq\\");
  EXPECT_FALSE(d.has("noequals"));
  EXPECT_FALSE(d.has(""));
  // An escaped LF belongs to the value; it does not end the line.
  EXPECT_EQ(d.getString("c"), "\nd=tail");
  EXPECT_FALSE(d.has("d"));
  EXPECT_EQ(d.size(), 3u);
}

TEST(Vl2Dictionary, RawNulEndsText) {
  const std::string text("a=1\nb=2\0c=3", 11);
  const auto d = Dictionary::parse(text);
  EXPECT_TRUE(d.has("b"));
  EXPECT_FALSE(d.has("c"));
  EXPECT_TRUE(Dictionary::parse(nullptr, 0).empty());
  EXPECT_TRUE(Dictionary::parse("").empty());
}

TEST(Vl2Dictionary, HexIntegersLikeStrtoull) {
  const auto d = Dictionary::parse(
      "a=7\nb=0x1f\nc=  ff\nd=ffffffffffffffffff\ne=-1\nf=zz\ng=12zz\nh=\ni=0000000000000af0\n"
      "j=FFFFFFFFFFFFFFFF\nk=0x");
  EXPECT_EQ(d.getUInt("a"), 7u);
  EXPECT_EQ(d.getUInt("b"), 31u);
  EXPECT_EQ(d.getUInt("c"), 255u);
  EXPECT_EQ(d.getUInt("d"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(d.getUInt("e"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(d.getUInt("f"), 0u);
  EXPECT_EQ(d.getUInt("g"), 0x12u);
  EXPECT_EQ(d.getUInt("h"), std::nullopt);  // empty value reads as absent
  EXPECT_EQ(d.getUInt("h", 99), 99u);
  EXPECT_EQ(d.getUInt("i"), 2800u);
  EXPECT_EQ(d.getUInt("j"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(d.getUInt("k"), 0u);
  EXPECT_EQ(d.getUInt("missing"), std::nullopt);
}

TEST(Vl2Dictionary, SignedIntegers) {
  const auto d = Dictionary::parse(
      "a=-10\nb=-8000000000000000\nc=-ffffffffffffffffff\nd=7fffffffffffffff0\ne=+a");
  EXPECT_EQ(d.getInt("a"), -16);
  EXPECT_EQ(d.getInt("b"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(d.getInt("c"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(d.getInt("d"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(d.getInt("e"), 10);

  Dictionary w;
  ASSERT_TRUE(w.addInt("n", -16));
  ASSERT_TRUE(w.addInt("p", 255));
  ASSERT_TRUE(w.addInt("m", std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(str(w.serialize()), "n=-0000000000000010\np=00000000000000ff\nm=-8000000000000000");
  const auto back = Dictionary::parse(w.serialize().data(), w.serialize().size());
  EXPECT_EQ(back.getInt("n"), -16);
  EXPECT_EQ(back.getInt("p"), 255);
  EXPECT_EQ(back.getInt("m"), std::numeric_limits<int64_t>::min());
}

TEST(Vl2Dictionary, Booleans) {
  const auto d = Dictionary::parse("a=1\nb=t\nc=T\nd=true\ne=0\nf=f\ng=x\nh=");
  for (const char* k : {"a", "b", "c", "d"}) EXPECT_EQ(d.getBool(k), true) << k;
  for (const char* k : {"e", "f", "g"}) EXPECT_EQ(d.getBool(k), false) << k;
  EXPECT_EQ(d.getBool("h"), std::nullopt);
  EXPECT_EQ(d.getBool("zz"), std::nullopt);
  EXPECT_TRUE(d.getBool("zz", true));
  Dictionary w;
  w.addBool("y", true);
  w.addBool("n", false);
  EXPECT_EQ(str(w.serialize()), "y=1\nn=0");
}

TEST(Vl2Dictionary, WriterFormats) {
  Dictionary d;
  EXPECT_TRUE(d.addAddress("id", 0x0b9ec04f21ULL));
  EXPECT_TRUE(d.addAddress("tt", 0));
  EXPECT_TRUE(d.addUInt("tl", 0));
  EXPECT_EQ(str(d.serialize()), "id=0b9ec04f21\ntt=0000000000\ntl=0000000000000000");
}

TEST(Vl2Dictionary, WriterRejectsBadKeys) {
  Dictionary d;
  EXPECT_FALSE(d.add("", "x"));
  EXPECT_FALSE(d.add("a=b", "x"));
  EXPECT_FALSE(d.add("a\nb", "x"));
  EXPECT_FALSE(d.add("a\rb", "x"));
  EXPECT_FALSE(d.add(std::string_view("a\0b", 3), "x"));
  EXPECT_TRUE(d.add("a", "x"));
  EXPECT_FALSE(d.add("a", "y"));  // duplicate: a reader would only see the first
  EXPECT_EQ(d.size(), 1u);
}

TEST(Vl2Dictionary, EveryByteRoundTrips) {
  std::vector<uint8_t> all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<uint8_t>(i));
  all.push_back('\\');
  all.push_back('\\');
  Dictionary d;
  ASSERT_TRUE(d.add("B", all));
  ASSERT_TRUE(d.add("after", "x"));
  const auto bytes = d.serialize();
  // Nothing that would end a line or the text survives unescaped.
  const auto valueEnd = std::find(bytes.begin(), bytes.end(), '\n');
  EXPECT_EQ(std::count(bytes.begin(), valueEnd, '\r'), 0);
  EXPECT_EQ(std::count(bytes.begin(), bytes.end(), 0), 0);
  const auto back = Dictionary::parse(bytes.data(), bytes.size());
  EXPECT_EQ(back.getBinary("B"), all);
  EXPECT_EQ(back.getString("after"), "x");
}

TEST(Vl2Dictionary, RandomInputNeverCrashes) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> in(rng() % 64);
    // The alphabet includes the string literal's terminating NUL.
    for (auto& b : in) b = static_cast<uint8_t>("a=\\\n\r0e1f-x"[rng() % 12]);
    const auto d = Dictionary::parse(in.data(), in.size());
    // Whatever was read writes back to something that reads the same.
    const auto again = Dictionary::parse(d.serialize().data(), d.serialize().size());
    EXPECT_EQ(again.entries(), d.entries());
  }
}

}  // namespace
}  // namespace zts
