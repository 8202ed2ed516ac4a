// SPDX-License-Identifier: Apache-2.0
// Internal to vigil_ops: reading a JSON object field by field, collecting errors with their
// paths (`density.standing.warn: must be a number`), rejecting unknown fields.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace vigil::ops::detail {

inline std::string join_path(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}

class ObjectReader {
 public:
  // Reports an error at `path` when `j` is not an object, and one per key not in `known`.
  ObjectReader(const nlohmann::json& j, std::string path, std::vector<Error>& errors,
               std::initializer_list<std::string_view> known)
      : j_(j), path_(std::move(path)), errors_(errors) {
    if (!j_.is_object()) {
      errors_.push_back({path_, "must be an object"});
      ok_ = false;
      return;
    }
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      bool found = false;
      for (std::string_view k : known) found = found || k == it.key();
      if (!found) {
        std::string list;
        for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        errors_.push_back({at(it.key()), fmt::format("unknown field (expected one of: {})", list)});
      }
    }
  }

  bool ok() const { return ok_; }
  std::string at(std::string_view key) const { return join_path(path_, key); }
  const nlohmann::json* find(std::string_view key) const {
    if (!ok_) return nullptr;
    auto it = j_.find(std::string(key));
    return it == j_.end() ? nullptr : &*it;
  }

  void number(std::string_view key, double& out, double min, double max) {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_number()) {
      errors_.push_back({at(key), "must be a number"});
      return;
    }
    const double d = v->get<double>();
    if (!std::isfinite(d) || d < min || d > max) {
      errors_.push_back({at(key), fmt::format("{:g} is out of range [{:g}, {:g}]", d, min, max)});
      return;
    }
    out = d;
  }

  void integer(std::string_view key, int& out, int min, int max) {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_number_integer()) {
      errors_.push_back({at(key), "must be an integer"});
      return;
    }
    const auto d = v->get<std::int64_t>();
    if (d < min || d > max) {
      errors_.push_back({at(key), fmt::format("{} is out of range [{}, {}]", d, min, max)});
      return;
    }
    out = static_cast<int>(d);
  }

  void boolean(std::string_view key, bool& out) {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_boolean()) {
      errors_.push_back({at(key), "must be true or false"});
      return;
    }
    out = v->get<bool>();
  }

  // A string field; `required` reports its absence.
  std::optional<std::string> string(std::string_view key, bool required, bool allow_null = false) {
    const nlohmann::json* v = find(key);
    if (v == nullptr) {
      if (required && ok_) errors_.push_back({at(key), "missing"});
      return std::nullopt;
    }
    if (allow_null && v->is_null()) return std::nullopt;
    if (!v->is_string()) {
      errors_.push_back({at(key), allow_null ? "must be a string or null" : "must be a string"});
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  void error(std::string_view key, std::string message) {
    errors_.push_back({at(key), std::move(message)});
  }

 private:
  const nlohmann::json& j_;
  std::string path_;
  std::vector<Error>& errors_;
  bool ok_ = true;
};

}  // namespace vigil::ops::detail
