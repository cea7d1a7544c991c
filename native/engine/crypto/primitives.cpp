#include "primitives.h"

#include <sodium.h>

#include <cstring>

namespace zts::crypto {

bool initialize() {
  return sodium_init() >= 0;
}

void sha512(uint8_t out[kSha512Len], const uint8_t* data, size_t len) {
  crypto_hash_sha512(out, data, len);
}

void sha384(uint8_t out[kSha384Len], const uint8_t* data, size_t len) {
  // FIPS 180-4 §5.3.4: the SHA-384 initial hash value. Everything else (padding, length
  // encoding, compression) is identical to SHA-512, whose final step writes the eight state
  // words big-endian; SHA-384 keeps the first six.
  static constexpr uint64_t kIv[8] = {
      0xcbbb9d5dc1059ed8ULL, 0x629a292a367cd507ULL, 0x9159015a3070dd17ULL, 0x152fecd8f70e5939ULL,
      0x67332667ffc00b31ULL, 0x8eb44a8768581511ULL, 0xdb0c2e0d64f98fa7ULL, 0x47b5481dbefa4fa4ULL,
  };
  crypto_hash_sha512_state st;
  std::memset(&st, 0, sizeof st);
  std::memcpy(st.state, kIv, sizeof kIv);
  crypto_hash_sha512_update(&st, data, len);
  uint8_t full[kSha512Len];
  crypto_hash_sha512_final(&st, full);
  std::memcpy(out, full, kSha384Len);
  sodium_memzero(full, sizeof full);
}

void salsa20Xor(uint8_t* out, const uint8_t* in, size_t len, const uint8_t nonce[kSalsaNonceLen],
                uint64_t firstBlock, const uint8_t key[kSalsaKeyLen]) {
  crypto_stream_salsa20_xor_ic(out, in, len, nonce, firstBlock, key);
}

void salsa2012Xor(uint8_t* out, const uint8_t* in, size_t len, const uint8_t nonce[kSalsaNonceLen],
                  const uint8_t key[kSalsaKeyLen]) {
  crypto_stream_salsa2012_xor(out, in, len, nonce, key);
}

void salsa2012Block(uint8_t out[64], const uint8_t nonce[kSalsaNonceLen], uint64_t block,
                    const uint8_t key[kSalsaKeyLen]) {
  // The Salsa20 input block carries the nonce then the little-endian block counter.
  uint8_t input[16];
  std::memcpy(input, nonce, 8);
  for (int i = 0; i < 8; ++i) input[8 + i] = static_cast<uint8_t>(block >> (8 * i));
  crypto_core_salsa2012(out, input, key, nullptr);
}

void poly1305(uint8_t tag[kPoly1305TagLen], const uint8_t* data, size_t len,
              const uint8_t key[kPoly1305KeyLen]) {
  crypto_onetimeauth_poly1305(tag, data, len, key);
}

bool equalConstantTime(const uint8_t* a, const uint8_t* b, size_t n) {
  return sodium_memcmp(a, b, n) == 0;
}

void randomBytes(uint8_t* out, size_t len) {
  randombytes_buf(out, len);
}

void wipe(void* p, size_t len) {
  sodium_memzero(p, len);
}

void x25519Public(uint8_t pub[kX25519Len], const uint8_t secret[kX25519Len]) {
  crypto_scalarmult_curve25519_base(pub, secret);
}

bool x25519(uint8_t shared[kX25519Len], const uint8_t secret[kX25519Len],
            const uint8_t theirPublic[kX25519Len]) {
  return crypto_scalarmult_curve25519(shared, secret, theirPublic) == 0;
}

void ed25519PublicFromSeed(uint8_t pub[kEd25519PublicLen], const uint8_t seed[kEd25519SeedLen]) {
  uint8_t sk[crypto_sign_ed25519_SECRETKEYBYTES];
  crypto_sign_ed25519_seed_keypair(pub, sk, seed);
  sodium_memzero(sk, sizeof sk);
}

void ed25519Sign(uint8_t sig[kEd25519SignatureLen], const uint8_t* msg, size_t len,
                 const uint8_t seed[kEd25519SeedLen]) {
  uint8_t pk[crypto_sign_ed25519_PUBLICKEYBYTES];
  uint8_t sk[crypto_sign_ed25519_SECRETKEYBYTES];
  crypto_sign_ed25519_seed_keypair(pk, sk, seed);
  crypto_sign_ed25519_detached(sig, nullptr, msg, len, sk);
  sodium_memzero(sk, sizeof sk);
}

bool ed25519Verify(const uint8_t sig[kEd25519SignatureLen], const uint8_t* msg, size_t len,
                   const uint8_t pub[kEd25519PublicLen]) {
  return crypto_sign_ed25519_verify_detached(sig, msg, len, pub) == 0;
}

}  // namespace zts::crypto
