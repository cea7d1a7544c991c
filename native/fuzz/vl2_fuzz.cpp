// The VL2 decoders on their own (protocol.md §5, §7), much faster than through the core:
// byte 0 picks one, the rest is its input.
//   0 Dictionary and NetworkConfig (a config must write out and read back the same;
//     nodes cache configs on disk in that form and re-read them on the next start)
//   1 config chunk (OK(NETWORK_CONFIG_REQUEST), NETWORK_CONFIG)
//   2 NETWORK_CREDENTIALS
//   3 certificate of membership
//   4 rules table, evaluated on a frame: rulesLen(2) rules etherType(2) flags(1) payload
//   5 the COO, TAG and CAP blobs of a network config
// Whatever parses must serialize to bytes that parse back to an equal value.
#include <vector>

#include "fuzz_support.h"
#include "util/buffer.h"
#include "vl2/config_chunk.h"
#include "vl2/credentials.h"
#include "vl2/dictionary.h"
#include "vl2/network_config.h"
#include "vl2/rules.h"

namespace {

using namespace zts;

volatile bool gSink;

void networkConfig(const uint8_t* data, size_t size) {
  const vl2::Dictionary d = vl2::Dictionary::parse(data, size);
  const std::vector<uint8_t> bytes = d.serialize();
  ZTS_FUZZ_CHECK(vl2::Dictionary::parse(bytes.data(), bytes.size()).entries() == d.entries());

  const auto cfg = vl2::NetworkConfig::fromDictionary(d);
  if (!cfg) return;
  gSink = cfg->parsedRules().has_value();
  const std::vector<uint8_t> written = cfg->serialize();
  const auto again = vl2::NetworkConfig::parse(written.data(), written.size());
  ZTS_FUZZ_CHECK(again.has_value());
  ZTS_FUZZ_CHECK(again->serialize() == written);
  ZTS_FUZZ_CHECK(again->isFor(cfg->networkId, cfg->issuedTo));
}

void configChunk(const uint8_t* data, size_t size) {
  const auto chunk = vl2::ConfigChunk::parse(data, size);
  if (!chunk) return;
  const std::vector<uint8_t> bytes = chunk->serialize();
  const auto again = vl2::ConfigChunk::parse(bytes.data(), bytes.size());
  ZTS_FUZZ_CHECK(again.has_value() && again->serialize() == bytes);
  if (chunk->isSigned) gSink = chunk->verify(fuzz::pair().a);
}

void credentials(const uint8_t* data, size_t size) {
  const auto creds = vl2::NetworkCredentials::parse(data, size);
  if (!creds) return;
  const std::vector<uint8_t> bytes = creds->serialize();
  const auto again = vl2::NetworkCredentials::parse(bytes.data(), bytes.size());
  ZTS_FUZZ_CHECK(again.has_value() && again->serialize() == bytes);
  ZTS_FUZZ_CHECK(again->coms == creds->coms && again->coos == creds->coos);
}

void membership(const uint8_t* data, size_t size) {
  size_t consumed = 0;
  const auto com = vl2::CertificateOfMembership::parse(data, size, &consumed);
  if (!com) return;
  ZTS_FUZZ_CHECK(consumed <= size);
  const std::vector<uint8_t> bytes = com->serialize();
  const auto again = vl2::CertificateOfMembership::parse(bytes.data(), bytes.size());
  ZTS_FUZZ_CHECK(again.has_value() && *again == *com);
  gSink = com->verify(fuzz::pair().a);
  gSink = com->agreesWith(*com, fuzz::pair().b);
}

void rules(const uint8_t* data, size_t size) {
  util::Reader r(data, size);
  const size_t rulesLen = r.u16();
  const uint8_t* table = r.bytes(rulesLen);
  const uint16_t etherType = r.u16();
  const uint8_t flags = r.u8();
  if (!r.ok()) return;
  const auto parsed = vl2::parseRules(table, rulesLen);
  if (!parsed) return;
  const std::vector<uint8_t> bytes = vl2::serializeRules(*parsed);
  ZTS_FUZZ_CHECK(vl2::parseRules(bytes.data(), bytes.size()) == parsed);

  vl2::FrameMeta frame;
  frame.ztSource = fuzz::pair().a.address();
  frame.ztDest = fuzz::pair().b.address();
  frame.macSource = 0x028e4da28b22;  // V17
  frame.macDest = (flags & 1) != 0 ? 0xffffffffffff : 0x02123456789a;
  frame.etherType = etherType;
  frame.payload = r.cursor();
  frame.payloadLen = r.remaining();
  frame.inbound = (flags & 2) != 0;
  gSink = vl2::evaluateRules(*parsed, frame).action == vl2::RuleAction::kAccept;
}

void blobs(const uint8_t* data, size_t size) {
  gSink = vl2::parseCooBlob(data, size).has_value();
  gSink = vl2::parseTagBlob(data, size).has_value();
  gSink = vl2::parseCapabilityBlob(data, size).has_value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static void (*const kDecoders[])(const uint8_t*, size_t) = {
      networkConfig, configChunk, credentials, membership, rules, blobs};
  kDecoders[data[0] % std::size(kDecoders)](data + 1, size - 1);
  return 0;
}
