// SPDX-License-Identifier: Apache-2.0
// Loading and validating venue files. Loading reports every problem in the file, not only the
// first; a venue with errors is not returned.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "venue/venue.hpp"

namespace vigil::venue {

enum class Severity { error, warning };

struct Issue {
  Severity severity = Severity::error;
  int feature_index = -1;  // -1: the file or its header
  std::string feature_id;
  std::string feature_kind;
  std::string message;

  // `features[12] (exit "E3"): message`, or `vigil.origin: message` for the header.
  std::string location() const;
  std::string to_string() const;
};

struct LoadResult {
  std::optional<Venue> venue;  // present when there are no errors (warnings allowed)
  std::vector<Issue> issues;   // errors and warnings, in file order

  bool ok() const { return venue.has_value(); }
  std::size_t error_count() const;
  std::size_t warning_count() const;
};

struct LoadOptions {
  double exit_tolerance_m = 0.05;  // how far an exit may be from an area boundary
};

LoadResult load_venue(std::string_view json_text, const LoadOptions& opt = {});
LoadResult load_venue_json(const nlohmann::json& doc, const LoadOptions& opt = {});
// Reads the file; a missing or unreadable file is reported as an error issue.
LoadResult load_venue_file(const std::filesystem::path& path, const LoadOptions& opt = {});

}  // namespace vigil::venue
