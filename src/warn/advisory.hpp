// SPDX-License-Identifier: Apache-2.0
// CAP 1.2 public advisories for a gathering (GET /gatherings/{id}/advisory.cap).
//
//   std::string advisory_cap(const AdvisoryInput&)
//
// The result is a complete CAP 1.2 <alert> (status Actual, msgType Alert, scope Public) with one
// <info> (category Safety) whose <area> is a circle around the venue point. Every text is
// XML-escaped; characters XML 1.0 cannot carry (control characters, invalid UTF-8) are replaced
// by U+FFFD; the identifier and sender lose the characters CAP forbids in them (space, comma,
// '<', '&'), which become '_'. A language tag that is not a valid xs:language falls back to
// "en-US", and a <web> that is not an http(s) URL without spaces is left out. The output
// validates against the CAP 1.2 schema (tested through parse_cap()).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "warn/cap.hpp"

namespace vigil::warn {

struct AdvisoryInput {
  std::string sender;      // e.g. "vigil@venue.example"
  std::string identifier;  // unique per sender
  TimeMs sent_ms = 0;
  int utc_offset_minutes = 0;  // how times are written (the venue's local offset)
  std::string language = "en-US";
  std::string event;  // e.g. "Security advisory"
  std::vector<ResponseType> response_types;
  Urgency urgency = Urgency::Expected;
  Severity severity = Severity::Moderate;
  Certainty certainty = Certainty::Possible;
  std::optional<TimeMs> onset_ms;
  std::optional<TimeMs> expires_ms;
  std::string sender_name;
  std::string headline;
  std::string description;
  std::string instruction;
  std::string web;
  std::string contact;
  std::vector<NameValue> parameters;
  std::string area_desc;  // e.g. the venue name and address
  double lat = 0;         // venue point, WGS 84 degrees
  double lon = 0;
  double radius_km = 0.5;
};

// REQUIRES: lat in [-90, 90], lon in [-180, 180], radius_km finite and >= 0,
// |utc_offset_minutes| <= 14 * 60, expires not before onset (throws std::invalid_argument
// otherwise).
std::string advisory_cap(const AdvisoryInput& in);

// Text made safe for XML 1.0 element content: & < > " ' escaped, invalid UTF-8 and characters
// XML cannot carry replaced by U+FFFD.
std::string xml_escape(std::string_view text);

}  // namespace vigil::warn
