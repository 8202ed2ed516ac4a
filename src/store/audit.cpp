// SPDX-License-Identifier: Apache-2.0
#include "store/audit.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "store/crypto.hpp"

namespace vigil::store {

using nlohmann::json;

Result<std::string> canonical_json(std::string_view json_text) {
  try {
    // nlohmann::json keeps objects in a std::map: dump() writes keys sorted by byte value.
    return json::parse(json_text).dump();
  } catch (const json::exception& e) {
    return unexpected(Error{"detail", std::string("not a JSON text: ") + e.what()});
  }
}

Result<std::string> canonical_entry(const AuditEntry& e) {
  try {
    json j = json::object();
    j["seq"] = e.seq;
    j["at"] = e.at;
    j["actor"] = e.actor;
    j["action"] = e.action;
    j["subject"] = e.subject;
    j["venue"] = e.venue;
    j["detail"] = json::parse(e.detail);
    return j.dump();
  } catch (const json::exception& ex) {
    return unexpected(Error{"", std::string("cannot form the canonical entry: ") + ex.what()});
  }
}

std::string chain_hash(std::string_view prev_hash, std::string_view canonical) {
  std::string data;
  data.reserve(prev_hash.size() + canonical.size());
  data.append(prev_hash);
  data.append(canonical);
  return sha256_hex(data);
}

std::string checkpoint_message(const AuditCheckpoint& c) {
  return json{{"seq", c.seq}, {"hash", c.hash}, {"at", c.at}}.dump();
}

std::string witness_line(const AuditCheckpoint& c) {
  return json{{"seq", c.seq},
              {"hash", c.hash},
              {"at", c.at},
              {"signature", c.signature},
              {"public_key", c.public_key}}
      .dump();
}

Result<AuditCheckpoint> parse_witness_line(std::string_view line) {
  try {
    const json j = json::parse(line);
    AuditCheckpoint c;
    c.seq = j.at("seq").get<std::int64_t>();
    c.hash = j.at("hash").get<std::string>();
    c.at = j.at("at").get<std::string>();
    c.signature = j.at("signature").get<std::string>();
    c.public_key = j.at("public_key").get<std::string>();
    return c;
  } catch (const json::exception& e) {
    return unexpected(Error{"", std::string("not a checkpoint line: ") + e.what()});
  }
}

AuditVerifier::AuditVerifier(std::vector<std::pair<AuditCheckpoint, std::string>> checkpoints,
                             std::string public_key_hex)
    : checkpoints_(std::move(checkpoints)), public_key_(std::move(public_key_hex)) {
  std::stable_sort(checkpoints_.begin(), checkpoints_.end(),
                   [](const auto& a, const auto& b) { return a.first.seq < b.first.seq; });
  checkpoint_entry_hash_.resize(checkpoints_.size());
}

void AuditVerifier::fail(std::int64_t seq, std::string reason) {
  if (!result_.ok) return;
  result_.ok = false;
  result_.first_bad_seq = seq;
  result_.reason = std::move(reason);
}

bool AuditVerifier::add(const AuditEntry& e) {
  if (!result_.ok) return false;
  const std::int64_t n = next_seq_;
  if (e.seq != n) {
    if (e.seq > n) {
      fail(n, "entry " + std::to_string(n) + " is missing (the next entry is " +
                  std::to_string(e.seq) + ")");
    } else {
      fail(e.seq, "entry " + std::to_string(e.seq) + " is out of order (expected entry " +
                      std::to_string(n) + ")");
    }
    return false;
  }
  ++result_.entries;
  auto canonical = canonical_entry(e);
  if (!canonical) {
    fail(n, "entry " + std::to_string(n) + ": " + canonical.error().message);
    return false;
  }
  if (chain_hash(e.prev_hash, *canonical) != e.hash) {
    fail(n, "entry " + std::to_string(n) +
                ": its content does not match its hash (edited, or moved from another seq)");
    return false;
  }
  if (e.prev_hash != prev_hash_) {
    fail(n,
         "entry " + std::to_string(n) + ": prev_hash does not match the hash of " +
             (n == 1 ? std::string("the genesis (64 zeros)") : "entry " + std::to_string(n - 1)));
    return false;
  }
  for (std::size_t i = 0; i < checkpoints_.size(); ++i) {
    if (checkpoints_[i].first.seq == n) checkpoint_entry_hash_[i] = e.hash;
  }
  prev_hash_ = e.hash;
  ++next_seq_;
  return true;
}

AuditVerification AuditVerifier::finish() {
  if (!result_.ok) return result_;
  const std::int64_t last = next_seq_ - 1;
  for (std::size_t i = 0; i < checkpoints_.size(); ++i) {
    const auto& [c, source] = checkpoints_[i];
    ++result_.checkpoints;
    const std::string name = "checkpoint " + std::to_string(c.seq) + " (" + source + ")";
    if (c.seq > last) {
      fail(last + 1, "the log ends at entry " + std::to_string(last) + " but " + name +
                         " covers entries up to " + std::to_string(c.seq) +
                         ": the tail of the log was removed");
      break;
    }
    if (c.public_key != public_key_) {
      fail(c.seq, name + " is signed by another key (" + c.public_key + ")");
      break;
    }
    if (!ed25519_verify(public_key_, checkpoint_message(c), c.signature)) {
      fail(c.seq, name + ": the signature does not verify");
      break;
    }
    if (checkpoint_entry_hash_[i] != c.hash) {
      fail(c.seq, "entry " + std::to_string(c.seq) + " does not have the hash signed by " + name +
                      ": entries up to " + std::to_string(c.seq) + " were rewritten");
      break;
    }
  }
  return result_;
}

}  // namespace vigil::store
