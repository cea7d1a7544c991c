#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "test_support.h"
#include "vl1/packet.h"
#include "vl2/config_chunk.h"
#include "vl2/network_config.h"
#include "vl2_test_vectors.h"

namespace zts {
namespace {

using vl2::ConfigAssembler;
using vl2::ConfigChunk;

constexpr uint64_t kUpdateId = 0x1122334455667788ULL;
constexpr uint64_t kInReId = 0x0102030405060708ULL;
// Header (28) + in-re verb (1) + in-re id (8).
constexpr size_t kChunkOffsetInPacket = 37;

std::vector<uint8_t> v15() {
  return test::vectorBlock("V15");
}

std::vector<uint8_t> v16ChunkPayload() {
  const auto plain = test::vectorBlock("V16", 0);
  return {plain.begin() + kChunkOffsetInPacket, plain.end()};
}

TEST(Vl2ConfigChunk, BuildMatchesV16) {
  const auto a = test::identityA();
  const auto chunks = vl2::buildChunks(v15(), test::kVl2Nwid, kUpdateId, a);
  ASSERT_EQ(chunks.size(), 1u);
  std::vector<uint8_t> packet;
  vl1::beginPacket(packet, 0x3333333333333333ULL, test::identityB().address(), a.address(),
                   vl1::proto::Verb::kOk);
  packet.push_back(static_cast<uint8_t>(vl1::proto::Verb::kNetworkConfigRequest));
  for (int i = 7; i >= 0; --i) packet.push_back(static_cast<uint8_t>(kInReId >> (8 * i)));
  packet.insert(packet.end(), chunks[0].begin(), chunks[0].end());
  EXPECT_EQ(packet.size(), 1293u);
  EXPECT_EQ(test::toHex(packet), test::toHex(test::vectorBlock("V16", 0)));
}

TEST(Vl2ConfigChunk, ParseAndVerifyV16) {
  const auto payload = v16ChunkPayload();
  const auto c = ConfigChunk::parse(payload.data(), payload.size());
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->isSigned);
  EXPECT_EQ(c->networkId, test::kVl2Nwid);
  EXPECT_EQ(c->data, v15());
  EXPECT_EQ(c->flags, 0);
  EXPECT_EQ(c->updateId, kUpdateId);
  EXPECT_EQ(c->totalLength, 1130u);
  EXPECT_EQ(c->offset, 0u);
  EXPECT_TRUE(c->verify(test::identityA()));
  EXPECT_FALSE(c->verify(test::identityB()));
  EXPECT_EQ(c->serialize(), payload);
}

TEST(Vl2ConfigChunk, WireV16DecodesToTheSignedChunk) {
  // The compressed, armored packet: dearmor with the A<->B key, inflate, then the chunk.
  const auto a = test::identityA();
  const auto b = test::identityB();
  uint8_t key[vl1::kAgreedKeyLen];
  ASSERT_TRUE(b.agree(a, key));
  auto wire = test::vectorBlock("V16", 1);
  ASSERT_EQ(vl1::dearmor(wire.data(), wire.size(), key), vl1::DearmorResult::kOk);
  ASSERT_TRUE(vl1::uncompressPayload(wire));
  const auto c =
      ConfigChunk::parse(wire.data() + kChunkOffsetInPacket, wire.size() - kChunkOffsetInPacket);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->verify(a));
  ConfigAssembler asm_(test::kVl2Nwid);
  const auto dict = asm_.add(*c);
  ASSERT_TRUE(dict);
  const auto config = vl2::NetworkConfig::parse(dict->data(), dict->size());
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->isFor(test::kVl2Nwid, b.address()));
}

TEST(Vl2ConfigChunk, TamperingBreaksTheSignature) {
  const auto a = test::identityA();
  const auto payload = v16ChunkPayload();
  // Every signed field: nwid, length is structural, data, flags, update id, total, offset.
  for (size_t i :
       {size_t{0}, size_t{7}, size_t{10}, size_t{600}, size_t{1139}, size_t{1140}, size_t{1141},
        size_t{1149}, size_t{1153}, size_t{1157}, size_t{1161}, size_t{1250}}) {
    auto bad = payload;
    bad[i] ^= 0x01;
    const auto c = ConfigChunk::parse(bad.data(), bad.size());
    ASSERT_TRUE(c) << i;
    EXPECT_FALSE(c->verify(a)) << i;
  }
  // Wrong signature type or length.
  auto c = *ConfigChunk::parse(payload.data(), payload.size());
  c.signatureType = 2;
  EXPECT_FALSE(c.verify(a));
  c = *ConfigChunk::parse(payload.data(), payload.size());
  c.signature.pop_back();
  EXPECT_FALSE(c.verify(a));
  // A chunk for a network A does not control.
  c = *ConfigChunk::parse(payload.data(), payload.size());
  c.networkId = 0x0b9ec04f21000001ULL;
  ASSERT_TRUE(c.sign(a));
  EXPECT_FALSE(c.verify(a));
}

TEST(Vl2ConfigChunk, EveryTruncationFailsCleanly) {
  const auto payload = v16ChunkPayload();
  const size_t legacyLen = 8 + 2 + 1130;
  for (size_t n = 0; n < payload.size(); ++n) {
    const auto c = ConfigChunk::parse(payload.data(), n);
    if (n == legacyLen) {
      // Ending right after the data is the legacy unsigned form.
      ASSERT_TRUE(c);
      EXPECT_FALSE(c->isSigned);
      EXPECT_FALSE(c->verify(test::identityA()));
    } else {
      EXPECT_FALSE(c) << n;
    }
  }
  // A signature longer than 96 bytes is refused.
  auto longSig = payload;
  longSig[legacyLen + 1 + 8 + 4 + 4 + 1 + 1] = 0x61;  // length 0x0061
  longSig.push_back(0);
  EXPECT_FALSE(ConfigChunk::parse(longSig.data(), longSig.size()));
}

TEST(Vl2ConfigChunk, AssembleManyChunksInAnyOrder) {
  const auto a = test::identityA();
  const auto dict = v15();
  const auto payloads = vl2::buildChunks(dict, test::kVl2Nwid, kUpdateId, a, 100);
  ASSERT_EQ(payloads.size(), 12u);  // 1130 bytes in chunks of 100
  std::vector<ConfigChunk> chunks;
  for (const auto& p : payloads) {
    auto c = ConfigChunk::parse(p.data(), p.size());
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->verify(a));
    EXPECT_LE(c->data.size(), 100u);
    chunks.push_back(*c);
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(chunks.begin(), chunks.end(), rng);
    ConfigAssembler assembler(test::kVl2Nwid);
    std::optional<std::vector<uint8_t>> done;
    for (size_t i = 0; i < chunks.size(); ++i) {
      auto out = assembler.add(chunks[i]);
      EXPECT_FALSE(assembler.add(chunks[i]));  // a duplicate changes nothing
      if (i + 1 < chunks.size()) {
        EXPECT_FALSE(out);
      } else {
        done = std::move(out);
      }
    }
    ASSERT_TRUE(done);
    EXPECT_EQ(*done, dict);
    EXPECT_EQ(assembler.inProgress(), 0u);
    // A re-sent chunk of a finished update does not start it over.
    EXPECT_FALSE(assembler.add(chunks[0]));
    EXPECT_EQ(assembler.inProgress(), 0u);
  }
}

TEST(Vl2ConfigChunk, AssemblerRejects) {
  const auto a = test::identityA();
  const auto payloads = vl2::buildChunks(v15(), test::kVl2Nwid, kUpdateId, a, 600);
  ASSERT_EQ(payloads.size(), 2u);
  const auto first = *ConfigChunk::parse(payloads[0].data(), payloads[0].size());
  const auto second = *ConfigChunk::parse(payloads[1].data(), payloads[1].size());

  ConfigAssembler other(test::kVl2Nwid + 1);
  EXPECT_FALSE(other.add(first));
  EXPECT_EQ(other.inProgress(), 0u);

  ConfigAssembler asmb(test::kVl2Nwid);
  auto c = second;
  c.offset = 1130 - 529;  // offset + length > total
  EXPECT_FALSE(asmb.add(c));
  c = second;
  c.totalLength = 0;
  EXPECT_FALSE(asmb.add(c));
  c.totalLength = ConfigAssembler::kMaxTotalLength + 1;
  c.offset = 0;
  EXPECT_FALSE(asmb.add(c));
  c = second;
  c.data.clear();
  EXPECT_FALSE(asmb.add(c));
  EXPECT_EQ(asmb.inProgress(), 0u);

  EXPECT_FALSE(asmb.add(first));
  // Same update id but another total: inconsistent, ignored.
  c = second;
  c.totalLength = 2000;
  EXPECT_FALSE(asmb.add(c));
  // Overlapping the first chunk (bytes 0..599) from offset 599.
  c = second;
  c.offset = 599;
  c.totalLength = 1130;
  c.data.resize(10);
  EXPECT_FALSE(asmb.add(c));
  // The real second chunk still completes it.
  const auto done = asmb.add(second);
  ASSERT_TRUE(done);
  EXPECT_EQ(*done, v15());
}

TEST(Vl2ConfigChunk, AssemblerKeepsAFewUpdates) {
  const auto a = test::identityA();
  const auto dict = v15();
  ConfigAssembler asmb(test::kVl2Nwid);
  std::vector<ConfigChunk> seconds;
  // Start kMaxInProgress + 1 updates; the oldest is evicted.
  for (uint64_t id = 1; id <= ConfigAssembler::kMaxInProgress + 1; ++id) {
    const auto p = vl2::buildChunks(dict, test::kVl2Nwid, id, a, 600);
    EXPECT_FALSE(asmb.add(*ConfigChunk::parse(p[0].data(), p[0].size())));
    seconds.push_back(*ConfigChunk::parse(p[1].data(), p[1].size()));
  }
  EXPECT_EQ(asmb.inProgress(), ConfigAssembler::kMaxInProgress);
  // Update 1 lost its first chunk: its second alone starts a fresh, incomplete update.
  EXPECT_FALSE(asmb.add(seconds[0]));
  // Update 3 (2 was evicted by update 1's restart) is still complete-able.
  const auto done = asmb.add(seconds[2]);
  ASSERT_TRUE(done);
  EXPECT_EQ(*done, dict);
}

TEST(Vl2ConfigChunk, LegacyUnsignedChunk) {
  ConfigChunk c;
  c.networkId = test::kVl2Nwid;
  c.data = v15();
  const auto bytes = c.serialize();
  EXPECT_EQ(bytes.size(), 8u + 2 + 1130);
  const auto back = ConfigChunk::parse(bytes.data(), bytes.size());
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->isSigned);
  EXPECT_EQ(back->totalLength, 1130u);
  EXPECT_FALSE(back->verify(test::identityA()));
  ConfigAssembler asmb(test::kVl2Nwid);
  EXPECT_EQ(asmb.add(*back), v15());
}

TEST(Vl2ConfigChunk, BuildChunksRefuses) {
  const auto a = test::identityA();
  const auto dict = v15();
  EXPECT_TRUE(
      vl2::buildChunks(dict, test::kVl2Nwid, kUpdateId, vl1::Identity(a.address(), a.publicKey()))
          .empty());
  EXPECT_TRUE(vl2::buildChunks(dict, 0x0b9ec04f21000001ULL, kUpdateId, a).empty());
  EXPECT_TRUE(vl2::buildChunks(dict, test::kVl2Nwid, kUpdateId, a, 0).empty());
  EXPECT_TRUE(vl2::buildChunks(dict, test::kVl2Nwid, kUpdateId, a, 9741).empty());
  EXPECT_TRUE(vl2::buildChunks(dict, test::kVl2Nwid, 0, a).empty());
  EXPECT_TRUE(vl2::buildChunks({}, test::kVl2Nwid, kUpdateId, a).empty());
  // A config too big for one chunk is split at 9,740 bytes.
  std::vector<uint8_t> big(20000, 'x');
  const auto chunks = vl2::buildChunks(big, test::kVl2Nwid, kUpdateId, a);
  ASSERT_EQ(chunks.size(), 3u);
  const auto last = ConfigChunk::parse(chunks[2].data(), chunks[2].size());
  ASSERT_TRUE(last);
  EXPECT_EQ(last->offset, 2u * 9740);
  EXPECT_EQ(last->data.size(), 20000u - 2 * 9740);
  // Each chunk packet stays within the maximum packet size.
  EXPECT_LE(chunks[0].size() + kChunkOffsetInPacket, vl1::proto::kMaxPacketLen);
}

}  // namespace
}  // namespace zts
