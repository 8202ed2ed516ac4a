// SPDX-License-Identifier: Apache-2.0
// CAP (Common Alerting Protocol) 1.2 messages: the model of every element, and the parser that
// checks a document against the OASIS schema and the rules the schema cannot express.
//
// API (used by the operations server for POST /warnings):
//   Expected<CapAlert, std::vector<Error>> parse_cap(std::string_view xml, const ParseOptions&)
//     Parses, validates against the embedded CAP 1.2 XSD (or the CAP 1.1 variant, see
//     docs/warnings.md), then checks geometry, times, references. Every problem is reported,
//     each Error saying where (`line 14: alert/info[0]/area[1]/polygon[0]`, or `document` when
//     the whole input is concerned) and what.
//     Thread-safe: the schema is compiled once and shared; each call has its own contexts.
//   nlohmann::json to_json(const CapAlert&)      the model as JSON (times as RFC 3339 UTC).
//   std::string format_cap_time(TimeMs, int offset_minutes)   "2024-05-01T21:15:00+01:00".
//   Result<TimeMs> parse_cap_time(std::string_view, bool allow_z_and_fraction)
//
// Security: no network (XML_PARSE_NONET), entities are never substituted, no DTD is loaded, and
// a document with a DOCTYPE is rejected before its internal subset is read; the size is limited.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/expected.hpp"

namespace vigil::warn {

// Milliseconds since 1970-01-01T00:00:00Z (the same as ops::TimeMs).
using TimeMs = std::int64_t;

enum class Status { Actual, Exercise, System, Test, Draft };
enum class MsgType { Alert, Update, Cancel, Ack, Error };
enum class Scope { Public, Restricted, Private };
enum class Category {
  Geo,
  Met,
  Safety,
  Security,
  Rescue,
  Fire,
  Health,
  Env,
  Transport,
  Infra,
  CBRNE,
  Other
};
enum class ResponseType {
  Shelter,
  Evacuate,
  Prepare,
  Execute,
  Avoid,
  Monitor,
  Assess,
  AllClear,
  None
};
enum class Urgency { Immediate, Expected, Future, Past, Unknown };
enum class Severity { Extreme, Severe, Moderate, Minor, Unknown };
enum class Certainty { Observed, Likely, Possible, Unlikely, Unknown };

// The CAP spelling of each value ("Actual", "CBRNE", "AllClear", ...).
std::string_view to_string(Status v);
std::string_view to_string(MsgType v);
std::string_view to_string(Scope v);
std::string_view to_string(Category v);
std::string_view to_string(ResponseType v);
std::string_view to_string(Urgency v);
std::string_view to_string(Severity v);
std::string_view to_string(Certainty v);

struct LatLon {
  double lat = 0;  // degrees, [-90, 90]
  double lon = 0;  // degrees, [-180, 180]
};

// <polygon>: closed ring, first point == last point, at least 4 points.
struct CapPolygon {
  std::vector<LatLon> points;
};

// <circle>: "lat,lon radius" with the radius in kilometres.
struct CapCircle {
  LatLon center;
  double radius_km = 0;
};

// <geocode>, <parameter>, <eventCode>: a valueName/value pair.
struct NameValue {
  std::string name;
  std::string value;
};

struct CapArea {
  std::string area_desc;
  std::vector<CapPolygon> polygons;  // empty <polygon/> elements are ignored (NWS sends them)
  std::vector<CapCircle> circles;
  std::vector<NameValue> geocodes;
  std::optional<double> altitude_ft;  // CAP gives feet above mean sea level
  std::optional<double> ceiling_ft;
  int line = 0;  // source line of <area>
};

struct CapResource {
  std::string resource_desc;
  std::string mime_type;
  std::optional<std::int64_t> size_bytes;
  std::string uri;
  std::string deref_uri;  // base64 content as sent (not decoded)
  std::string digest;     // SHA-1 hex as sent
};

struct CapInfo {
  std::string language = "en-US";    // the schema default when absent
  std::vector<Category> categories;  // at least one
  std::string event;
  std::vector<ResponseType> response_types;
  Urgency urgency = Urgency::Unknown;
  Severity severity = Severity::Unknown;
  Certainty certainty = Certainty::Unknown;
  std::string audience;
  std::vector<NameValue> event_codes;
  std::optional<TimeMs> effective_ms;
  std::optional<TimeMs> onset_ms;
  std::optional<TimeMs> expires_ms;
  std::string sender_name;
  std::string headline;
  std::string description;
  std::string instruction;
  std::string web;
  std::string contact;
  std::vector<NameValue> parameters;
  std::vector<CapResource> resources;
  std::vector<CapArea> areas;
  int line = 0;  // source line of <info>
};

// One entry of <references>: "sender,identifier,sent".
struct CapReference {
  std::string sender;
  std::string identifier;
  TimeMs sent_ms = 0;
  std::string sent;  // as written
};

struct CapAlert {
  std::string version = "1.2";  // "1.2" or "1.1" (from the namespace)
  std::string identifier;
  std::string sender;
  TimeMs sent_ms = 0;
  std::string sent;             // as written, with its offset
  int sent_offset_minutes = 0;  // the numeric offset of <sent>
  Status status = Status::Actual;
  MsgType msg_type = MsgType::Alert;
  std::string source;
  Scope scope = Scope::Public;
  std::string restriction;
  std::vector<std::string> addresses;  // space-separated; double-quoted entries may hold spaces
  std::vector<std::string> codes;
  std::string note;
  std::vector<CapReference> references;
  std::vector<std::string> incidents;  // space-separated, like addresses
  std::vector<CapInfo> infos;
  bool signed_ = false;  // an XML-DSig <Signature> follows (not verified here)
};

struct ParseOptions {
  std::size_t max_bytes = 1u << 20;  // larger documents are rejected before parsing (1 MiB)
  bool accept_cap11 = true;          // CAP 1.1 namespace accepted, marked version "1.1"
  std::size_t max_errors = 50;       // further errors are summarised in one last entry
};

using CapErrors = std::vector<Error>;

Expected<CapAlert, CapErrors> parse_cap(std::string_view xml, const ParseOptions& opt = {});

nlohmann::json to_json(const CapAlert& alert);

// CAP dateTime "YYYY-MM-DDThh:mm:ss+hh:mm" (the 1.2 schema's pattern: numeric offset, no
// fraction, no "Z"; "-00:00" means UTC). With allow_z_and_fraction (CAP 1.1's plain xs:dateTime)
// "Z" and a fraction (truncated to ms) are accepted too. `offset_minutes`, when given, receives
// the offset.
Result<TimeMs> parse_cap_time(std::string_view text, bool allow_z_and_fraction = false,
                              int* offset_minutes = nullptr);
// The CAP form of `t_ms` shown at `offset_minutes` from UTC (seconds, no fraction).
std::string format_cap_time(TimeMs t_ms, int offset_minutes = 0);

}  // namespace vigil::warn
