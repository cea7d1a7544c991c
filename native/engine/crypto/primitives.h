// Thin, typed wrappers over libsodium: every primitive the protocol needs comes from
// there (brief, decision 5). Callers pass raw spans; nothing here allocates.
#pragma once

#include <cstddef>
#include <cstdint>

namespace zts::crypto {

constexpr size_t kSha512Len = 64;
constexpr size_t kSha384Len = 48;
constexpr size_t kSalsaKeyLen = 32;
constexpr size_t kSalsaNonceLen = 8;
constexpr size_t kPoly1305KeyLen = 32;
constexpr size_t kPoly1305TagLen = 16;
constexpr size_t kX25519Len = 32;
constexpr size_t kEd25519PublicLen = 32;
constexpr size_t kEd25519SeedLen = 32;
constexpr size_t kEd25519SignatureLen = 64;

// Initializes libsodium once per process; safe to call from any thread, any number of times.
// Returns false only if libsodium cannot start (no usable random source).
bool initialize();

void sha512(uint8_t out[kSha512Len], const uint8_t* data, size_t len);

// SHA-384 (FIPS 180-4), needed for the identity hash in membership certificates. libsodium
// has no SHA-384, but it is SHA-512's compression started from different initial values and
// truncated to 48 bytes, so it reuses libsodium's SHA-512 engine.
void sha384(uint8_t out[kSha384Len], const uint8_t* data, size_t len);

// Salsa20/20 keystream XOR starting at 64-byte block `firstBlock` (in may equal out).
void salsa20Xor(uint8_t* out, const uint8_t* in, size_t len, const uint8_t nonce[kSalsaNonceLen],
                uint64_t firstBlock, const uint8_t key[kSalsaKeyLen]);

// Salsa20/12 keystream XOR from block 0 (in may equal out). libsodium offers no block
// counter for the 12-round variant, so callers that need an offset prepend zero bytes.
void salsa2012Xor(uint8_t* out, const uint8_t* in, size_t len, const uint8_t nonce[kSalsaNonceLen],
                  const uint8_t key[kSalsaKeyLen]);

// One Salsa20/12 keystream block (64 bytes) at block index `block`.
void salsa2012Block(uint8_t out[64], const uint8_t nonce[kSalsaNonceLen], uint64_t block,
                    const uint8_t key[kSalsaKeyLen]);

void poly1305(uint8_t tag[kPoly1305TagLen], const uint8_t* data, size_t len,
              const uint8_t key[kPoly1305KeyLen]);

// Constant-time comparison of n bytes.
bool equalConstantTime(const uint8_t* a, const uint8_t* b, size_t n);

void randomBytes(uint8_t* out, size_t len);

// Overwrites memory in a way the compiler may not elide.
void wipe(void* p, size_t len);

void x25519Public(uint8_t pub[kX25519Len], const uint8_t secret[kX25519Len]);

// False when the shared point is all zero (a low-order public key).
bool x25519(uint8_t shared[kX25519Len], const uint8_t secret[kX25519Len],
            const uint8_t theirPublic[kX25519Len]);

void ed25519PublicFromSeed(uint8_t pub[kEd25519PublicLen], const uint8_t seed[kEd25519SeedLen]);

void ed25519Sign(uint8_t sig[kEd25519SignatureLen], const uint8_t* msg, size_t len,
                 const uint8_t seed[kEd25519SeedLen]);

bool ed25519Verify(const uint8_t sig[kEd25519SignatureLen], const uint8_t* msg, size_t len,
                   const uint8_t pub[kEd25519PublicLen]);

}  // namespace zts::crypto
