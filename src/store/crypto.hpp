// SPDX-License-Identifier: Apache-2.0
// The cryptography the store needs, over OpenSSL: SHA-256, random ids, and the Ed25519 key
// that signs audit checkpoints. Hex is lowercase everywhere.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace vigil::store {

// hex(sha256(data)), 64 characters.
std::string sha256_hex(std::string_view data);
// `bytes` bytes from the OS's cryptographic generator, as 2 * bytes hex characters.
std::string random_hex(std::size_t bytes);

// Checks an Ed25519 signature (hex) of `message` by `public_key_hex` (32 bytes, hex).
bool ed25519_verify(std::string_view public_key_hex, std::string_view message,
                    std::string_view signature_hex);

// An Ed25519 private key kept in a PEM (PKCS #8) file.
class SigningKey {
 public:
  // Loads the key at `path`, or creates it there (mode 0600) when the file does not exist.
  static Result<SigningKey> load_or_create(const std::filesystem::path& path);

  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  std::string public_key_hex() const { return public_hex_; }
  // Signature (64 bytes, hex) of `message`. Safe to call from several threads.
  Result<std::string> sign(std::string_view message) const;

 private:
  struct Impl;
  explicit SigningKey(std::unique_ptr<Impl> impl, std::string public_hex);
  std::unique_ptr<Impl> impl_;
  std::string public_hex_;
};

}  // namespace vigil::store
