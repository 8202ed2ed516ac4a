// SPDX-License-Identifier: Apache-2.0
// The audit chain format, independent of where entries are kept, so that every Store
// implementation (and an external verifier) computes exactly the same bytes:
//   canonical entry  compact JSON, keys sorted, of {action, actor, at, detail, seq, subject,
//                    venue}; detail is itself canonical (compact, sorted keys)
//   hash             hex(sha256(prev_hash || canonical entry)): prev_hash as its 64 ASCII hex
//                    characters, then the UTF-8 canonical entry; entry 1's prev_hash is 64 '0'
//   checkpoint       Ed25519 signature of the compact sorted JSON {"at","hash","seq"}
//   witness line     {"at","hash","public_key","seq","signature"} as one JSON line
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "store/store.hpp"

namespace vigil::store {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The canonical form of `detail` (a JSON text); an error when it is not JSON or not UTF-8.
Result<std::string> canonical_json(std::string_view json_text);
// The canonical entry of e (its seq, at, actor, action, subject, venue, detail).
Result<std::string> canonical_entry(const AuditEntry& e);
// hex(sha256(prev_hash || canonical)).
std::string chain_hash(std::string_view prev_hash, std::string_view canonical);
// The bytes a checkpoint's signature covers.
std::string checkpoint_message(const AuditCheckpoint& c);
std::string witness_line(const AuditCheckpoint& c);  // without the newline
Result<AuditCheckpoint> parse_witness_line(std::string_view line);

// Verifies a log read in ascending seq order against its checkpoints. Feed every entry with
// add() (it returns false once a problem is found; later entries are ignored), then finish().
class AuditVerifier {
 public:
  // `checkpoints`: each with where it came from ("table", "witness file"), any order.
  AuditVerifier(std::vector<std::pair<AuditCheckpoint, std::string>> checkpoints,
                std::string public_key_hex);

  bool add(const AuditEntry& e);
  AuditVerification finish();

 private:
  void fail(std::int64_t seq, std::string reason);

  std::vector<std::pair<AuditCheckpoint, std::string>> checkpoints_;  // sorted by seq
  std::vector<std::string> checkpoint_entry_hash_;  // hash of the entry at each checkpoint seq
  std::string public_key_;
  std::int64_t next_seq_ = 1;
  std::string prev_hash_{kGenesisHash};
  AuditVerification result_;
};

}  // namespace vigil::store
