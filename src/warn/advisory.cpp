// SPDX-License-Identifier: Apache-2.0
#include "warn/advisory.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace vigil::warn {
namespace {

constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence at s[i] for a character XML 1.0 allows, or 0.
std::size_t valid_xml_char(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80)
    return (b0 >= 0x20 || b0 == '\t' || b0 == '\n' || b0 == '\r') && b0 != 0x7F ? 1 : 0;
  std::size_t len = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
      cp == 0xFFFF)
    return 0;
  if (cp >= 0x80 && cp <= 0x9F) return 0;  // C1 controls: allowed by XML 1.0 but "discouraged"
  return len;
}

// CAP forbids space, comma, '<' and '&' in identifier and sender.
std::string cap_token(std::string_view s, std::string_view fallback) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t n = valid_xml_char(s, i);
    if (n == 0) {
      out += '_';
      ++i;
      continue;
    }
    const char c = s[i];
    if (n == 1 &&
        (c == ' ' || c == ',' || c == '<' || c == '&' || c == '\t' || c == '\n' || c == '\r'))
      out += '_';
    else
      out.append(s.substr(i, n));
    i += n;
  }
  return out.empty() ? std::string(fallback) : xml_escape(out);
}

// xs:language: [a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*
bool valid_language(std::string_view s) {
  if (s.empty()) return false;
  std::size_t part = 0, len = 0;
  for (char c : s) {
    if (c == '-') {
      if (len == 0) return false;
      ++part;
      len = 0;
      continue;
    }
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (digit && part > 0))) return false;
    if (++len > 8) return false;
  }
  return len > 0;
}

bool usable_web(std::string_view s) {
  if (!(s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0)) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
        c == '`' || c == '{' || c == '|' || c == '}')
      return false;
  }
  return true;
}

void element(std::string& out, std::string_view indent, std::string_view name,
             std::string_view text) {
  out += fmt::format("{}<{}>{}</{}>\n", indent, name, xml_escape(text), name);
}

}  // namespace

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t n = valid_xml_char(s, i);
    if (n == 0) {
      out += kReplacementUtf8;
      ++i;
      continue;
    }
    if (n == 1) {
      switch (s[i]) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&apos;";
          break;
        case '\r':
          out += "&#13;";
          break;  // kept through XML end-of-line normalisation
        default:
          out += s[i];
      }
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string advisory_cap(const AdvisoryInput& in) {
  if (!(in.lat >= -90 && in.lat <= 90 && in.lon >= -180 && in.lon <= 180))
    throw std::invalid_argument(
        fmt::format("advisory: venue point ({}, {}) out of range", in.lat, in.lon));
  if (!(std::isfinite(in.radius_km) && in.radius_km >= 0))
    throw std::invalid_argument(fmt::format("advisory: radius {} km must be >= 0", in.radius_km));
  if (in.utc_offset_minutes < -14 * 60 || in.utc_offset_minutes > 14 * 60)
    throw std::invalid_argument(
        fmt::format("advisory: UTC offset {} min beyond +-14:00", in.utc_offset_minutes));
  if (in.onset_ms && in.expires_ms && *in.expires_ms < *in.onset_ms)
    throw std::invalid_argument("advisory: expires is before onset");
  const int off = in.utc_offset_minutes;
  std::string x;
  x.reserve(2048 + in.description.size() + in.instruction.size());
  x += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n";
  x += fmt::format("  <identifier>{}</identifier>\n", cap_token(in.identifier, "vigil-advisory"));
  x += fmt::format("  <sender>{}</sender>\n", cap_token(in.sender, "vigil"));
  x += fmt::format("  <sent>{}</sent>\n", format_cap_time(in.sent_ms, off));
  x += "  <status>Actual</status>\n  <msgType>Alert</msgType>\n  <scope>Public</scope>\n";
  x += "  <info>\n";
  element(x, "    ", "language", valid_language(in.language) ? in.language : "en-US");
  x += "    <category>Safety</category>\n";
  element(x, "    ", "event", in.event.empty() ? "Safety advisory" : in.event);
  for (ResponseType r : in.response_types) element(x, "    ", "responseType", to_string(r));
  element(x, "    ", "urgency", to_string(in.urgency));
  element(x, "    ", "severity", to_string(in.severity));
  element(x, "    ", "certainty", to_string(in.certainty));
  if (in.onset_ms) element(x, "    ", "onset", format_cap_time(*in.onset_ms, off));
  if (in.expires_ms) element(x, "    ", "expires", format_cap_time(*in.expires_ms, off));
  if (!in.sender_name.empty()) element(x, "    ", "senderName", in.sender_name);
  if (!in.headline.empty()) element(x, "    ", "headline", in.headline);
  if (!in.description.empty()) element(x, "    ", "description", in.description);
  if (!in.instruction.empty()) element(x, "    ", "instruction", in.instruction);
  if (usable_web(in.web)) element(x, "    ", "web", in.web);
  if (!in.contact.empty()) element(x, "    ", "contact", in.contact);
  for (const auto& p : in.parameters) {
    x += "    <parameter>\n";
    element(x, "      ", "valueName", p.name);
    element(x, "      ", "value", p.value);
    x += "    </parameter>\n";
  }
  x += "    <area>\n";
  element(x, "      ", "areaDesc", in.area_desc.empty() ? "Venue" : in.area_desc);
  x += fmt::format("      <circle>{:.6f},{:.6f} {:.3f}</circle>\n", in.lat, in.lon, in.radius_km);
  x += "    </area>\n  </info>\n</alert>\n";
  return x;
}

}  // namespace vigil::warn
