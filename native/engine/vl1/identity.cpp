#include "identity.h"

#include <cstring>
#include <memory>

#include "../crypto/primitives.h"
#include "../util/hex.h"

namespace zts::vl1 {
namespace {

constexpr uint8_t kHashcashThreshold = 17;
constexpr size_t kBlocksInScratch = kMemoryHardScratchLen / 64;  // 32768
constexpr size_t kWordsInScratch = kMemoryHardScratchLen / 8;    // 262144
// The mixing phase consumes one keystream block per iteration; generating them in
// batches keeps libsodium on its wide code path instead of one call per block.
constexpr size_t kKeystreamBatchBlocks = 512;

// One scratch area per thread: validation runs on the engine thread and on worker
// threads, and a 2 MiB allocation per call would dominate its cost.
uint8_t* threadScratch() {
  thread_local std::unique_ptr<uint8_t[]> scratch(new uint8_t[kMemoryHardScratchLen]);
  return scratch.get();
}

bool derivesPublic(const PublicKey& pub, const PrivateKey& priv) {
  uint8_t x[32];
  uint8_t ed[32];
  crypto::x25519Public(x, priv.data());
  crypto::ed25519PublicFromSeed(ed, priv.data() + 32);
  return std::memcmp(x, pub.data(), 32) == 0 && std::memcmp(ed, pub.data() + 32, 32) == 0;
}

}  // namespace

bool isReservedAddress(uint64_t address) {
  return address == 0 || (address >> 32) == 0xff;
}

std::string addressToString(uint64_t address) {
  uint8_t b[kAddressLen];
  util::writeBigEndian(b, address, kAddressLen);
  std::string s;
  util::appendHex(s, b, kAddressLen);
  return s;
}

void memoryHardDigest(const uint8_t publicKey[kPublicKeyLen], Digest& digest, uint8_t* scratch) {
  crypto::sha512(digest.data(), publicKey, kPublicKeyLen);
  uint8_t key[32];
  uint8_t nonce[8];
  std::memcpy(key, digest.data(), 32);
  std::memcpy(nonce, digest.data() + 32, 8);

  // Fill: block 0 is keystream block 0; block i is block i-1 XOR keystream block i.
  std::memset(scratch, 0, kMemoryHardScratchLen);
  crypto::salsa20Xor(scratch, scratch, kMemoryHardScratchLen, nonce, 0, key);
  for (size_t i = 1; i < kBlocksInScratch; ++i) {
    uint8_t* block = scratch + i * 64;
    const uint8_t* prev = block - 64;
    for (size_t k = 0; k < 64; ++k) block[k] ^= prev[k];
  }

  // Mix: swap words between the scratch and the digest, re-encrypting the digest each time.
  uint8_t keystream[kKeystreamBatchBlocks * 64];
  size_t keystreamUsed = kKeystreamBatchBlocks;
  uint64_t nextBlock = kBlocksInScratch;
  for (size_t j = 0; j < kWordsInScratch; j += 2) {
    uint8_t* w0 = scratch + j * 8;
    const size_t idx1 = util::readBigEndian(w0, 8) % 8;
    const size_t idx2 = util::readBigEndian(w0 + 8, 8) % kWordsInScratch;
    uint8_t tmp[8];
    std::memcpy(tmp, scratch + idx2 * 8, 8);
    std::memcpy(scratch + idx2 * 8, digest.data() + idx1 * 8, 8);
    std::memcpy(digest.data() + idx1 * 8, tmp, 8);

    if (keystreamUsed == kKeystreamBatchBlocks) {
      std::memset(keystream, 0, sizeof keystream);
      crypto::salsa20Xor(keystream, keystream, sizeof keystream, nonce, nextBlock, key);
      nextBlock += kKeystreamBatchBlocks;
      keystreamUsed = 0;
    }
    const uint8_t* ks = keystream + keystreamUsed * 64;
    for (size_t k = 0; k < 64; ++k) digest[k] ^= ks[k];
    ++keystreamUsed;
  }
  crypto::wipe(key, sizeof key);
}

Identity::Identity(uint64_t address, const PublicKey& pub, const PrivateKey& priv)
    : address_(address), public_(pub), private_(priv), hasPrivate_(true) {}

Identity::~Identity() {
  crypto::wipe(private_.data(), private_.size());
}

Identity Identity::generate() {
  uint8_t* scratch = threadScratch();
  PrivateKey priv;
  PublicKey pub;
  crypto::randomBytes(priv.data(), priv.size());
  crypto::ed25519PublicFromSeed(pub.data() + 32, priv.data() + 32);
  Digest digest;
  for (;;) {
    // Perturb the X25519 secret by counting in bytes 8..15; any change gives a fresh try.
    uint64_t counter = util::readBigEndian(priv.data() + 8, 8);
    util::writeBigEndian(priv.data() + 8, counter + 1, 8);
    crypto::x25519Public(pub.data(), priv.data());
    memoryHardDigest(pub.data(), digest, scratch);
    if (digest[0] >= kHashcashThreshold) continue;
    const uint64_t address = util::readBigEndian(digest.data() + 59, kAddressLen);
    if (isReservedAddress(address)) continue;
    Identity id(address, pub, priv);
    crypto::wipe(priv.data(), priv.size());
    return id;
  }
}

std::optional<Identity> Identity::fromString(std::string_view text) {
  auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);

  std::string_view fields[4];
  size_t count = 0;
  for (;;) {
    const size_t colon = text.find(':');
    if (count == 4) return std::nullopt;
    fields[count++] = text.substr(0, colon);
    if (colon == std::string_view::npos) break;
    text.remove_prefix(colon + 1);
  }
  if (count < 3) return std::nullopt;
  if (fields[1] != "0") return std::nullopt;

  uint8_t addressBytes[kAddressLen];
  if (!util::decodeHex(fields[0], addressBytes, kAddressLen)) return std::nullopt;
  const uint64_t address = util::readBigEndian(addressBytes, kAddressLen);
  PublicKey pub;
  if (!util::decodeHex(fields[2], pub.data(), pub.size())) return std::nullopt;
  if (count == 3) return Identity(address, pub);
  PrivateKey priv;
  if (!util::decodeHex(fields[3], priv.data(), priv.size())) return std::nullopt;
  Identity id(address, pub, priv);
  crypto::wipe(priv.data(), priv.size());
  return id;
}

std::optional<Identity> Identity::fromBinary(const uint8_t* data, size_t len, size_t& consumed) {
  if (len < kIdentityBinaryPublicLen) return std::nullopt;
  if (data[kAddressLen] != 0) return std::nullopt;  // only type 0 exists in v1
  const uint64_t address = util::readBigEndian(data, kAddressLen);
  PublicKey pub;
  std::memcpy(pub.data(), data + 6, kPublicKeyLen);
  const uint8_t privLen = data[70];
  if (privLen == 0) {
    consumed = kIdentityBinaryPublicLen;
    return Identity(address, pub);
  }
  if (privLen != kPrivateKeyLen || len < kIdentityBinarySecretLen) return std::nullopt;
  PrivateKey priv;
  std::memcpy(priv.data(), data + 71, kPrivateKeyLen);
  consumed = kIdentityBinarySecretLen;
  Identity id(address, pub, priv);
  crypto::wipe(priv.data(), priv.size());
  return id;
}

std::string Identity::toString(bool includePrivate) const {
  std::string s = addressToString(address_);
  s += ":0:";
  util::appendHex(s, public_.data(), public_.size());
  if (includePrivate && hasPrivate_) {
    s.push_back(':');
    util::appendHex(s, private_.data(), private_.size());
  }
  return s;
}

size_t Identity::toBinary(uint8_t* out, size_t cap, bool includePrivate) const {
  const bool withPrivate = includePrivate && hasPrivate_;
  const size_t need = withPrivate ? kIdentityBinarySecretLen : kIdentityBinaryPublicLen;
  if (cap < need) return 0;
  util::writeBigEndian(out, address_, kAddressLen);
  out[5] = 0;
  std::memcpy(out + 6, public_.data(), kPublicKeyLen);
  out[70] = withPrivate ? static_cast<uint8_t>(kPrivateKeyLen) : 0;
  if (withPrivate) std::memcpy(out + 71, private_.data(), kPrivateKeyLen);
  return need;
}

bool Identity::locallyValidate() const {
  return locallyValidate(threadScratch());
}

bool Identity::locallyValidate(uint8_t* scratch) const {
  if (isReservedAddress(address_)) return false;
  if (hasPrivate_ && !derivesPublic(public_, private_)) return false;
  Digest digest;
  memoryHardDigest(public_.data(), digest, scratch);
  return digest[0] < kHashcashThreshold &&
         util::readBigEndian(digest.data() + 59, kAddressLen) == address_;
}

bool Identity::sign(const uint8_t* msg, size_t len, uint8_t sig[kSignatureLen]) const {
  if (!hasPrivate_) return false;
  uint8_t h[64];
  crypto::sha512(h, msg, len);
  crypto::ed25519Sign(sig, h, 32, private_.data() + 32);
  std::memcpy(sig + 64, h, 32);
  return true;
}

bool Identity::verify(const uint8_t* msg, size_t len, const uint8_t* sig, size_t sigLen) const {
  if (sigLen != kSignatureLen) return false;
  uint8_t h[64];
  crypto::sha512(h, msg, len);
  if (!crypto::equalConstantTime(h, sig + 64, 32)) return false;
  return crypto::ed25519Verify(sig, h, 32, public_.data() + 32);
}

bool Identity::agree(const Identity& other, uint8_t key[kAgreedKeyLen]) const {
  if (!hasPrivate_) return false;
  uint8_t shared[32];
  if (!crypto::x25519(shared, private_.data(), other.public_.data())) return false;
  uint8_t digest[64];
  crypto::sha512(digest, shared, sizeof shared);
  std::memcpy(key, digest, kAgreedKeyLen);
  crypto::wipe(shared, sizeof shared);
  crypto::wipe(digest, sizeof digest);
  return true;
}

}  // namespace zts::vl1
