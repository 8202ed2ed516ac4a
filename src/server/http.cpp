// SPDX-License-Identifier: Apache-2.0
// Requests, responses, URL decoding and the router: plain C++, no Boost.
#include <algorithm>
#include <exception>
#include <set>
#include <stdexcept>

#include "server/http.hpp"
#include "server/metrics.hpp"

namespace vigil::server {

namespace {

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

}  // namespace

// ---- Request ----------------------------------------------------------------------------------

std::string_view Request::header(std::string_view name) const {
  std::string lower(name);
  for (auto& c : lower) c = ascii_lower(c);
  const auto it = headers.find(lower);
  return it == headers.end() ? std::string_view{} : std::string_view{it->second};
}

std::optional<std::string_view> Request::bearer_token() const {
  std::string_view value = header("authorization");
  constexpr std::string_view scheme = "bearer";
  if (value.size() <= scheme.size() || !iequals(value.substr(0, scheme.size()), scheme) ||
      (value[scheme.size()] != ' ' && value[scheme.size()] != '\t')) {
    return std::nullopt;
  }
  value.remove_prefix(scheme.size());
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  return value;
}

std::optional<std::string_view> Request::query_param(std::string_view name) const {
  const auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return std::string_view{it->second};
}

// ---- Response ---------------------------------------------------------------------------------

std::string json_quote(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::error(int status, std::string_view message) {
  return json(status, "{\"error\":" + json_quote(message) + "}");
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

Response Response::event_stream(std::shared_ptr<EventStream> stream) {
  Response r;
  r.content_type = "text/event-stream";
  r.stream = std::move(stream);
  return r;
}

Handler sync_handler(SyncHandler handler) {
  return [h = std::move(handler)](Request&& req, PathParams&& params, Reply reply) {
    reply(h(req, params));
  };
}

Handler metrics_handler(std::shared_ptr<const MetricsRegistry> registry) {
  return sync_handler([registry = std::move(registry)](const Request&, const PathParams&) {
    return Response::text(200, registry->render(), MetricsRegistry::content_type);
  });
}

// ---- URL decoding -----------------------------------------------------------------------------

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;  // fewer than two hex digits follow
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return std::nullopt;
      out += decoded;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '\0') {
      return std::nullopt;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<StringMap> parse_query(std::string_view query) {
  StringMap out;
  if (query.empty()) return out;
  for (const auto part : split(query, '&')) {
    if (part.empty()) continue;
    const auto eq = part.find('=');
    auto key = percent_decode(part.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::optional<std::string>{std::string{}}
                                              : percent_decode(part.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    out.insert_or_assign(std::move(*key), std::move(*value));
  }
  return out;
}

// ---- Router -----------------------------------------------------------------------------------

void Router::add(std::string_view method, std::string_view pattern, Handler handler) {
  if (method.empty()) throw std::invalid_argument("route: empty method");
  for (const char c : method) {
    if (c < 'A' || c > 'Z') {
      throw std::invalid_argument("route " + std::string(pattern) + ": method \"" +
                                  std::string(method) + "\" is not upper-case letters");
    }
  }
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route \"" + std::string(pattern) + "\" does not start with '/'");
  }
  if (!handler) throw std::invalid_argument("route " + std::string(pattern) + ": empty handler");
  Route route{std::string(method), std::string(pattern), {}, std::move(handler)};
  const auto parts = split(pattern.substr(1), '/');
  std::set<std::string, std::less<>> names;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto part = parts[i];
    const auto fail = [&](const std::string& why) {
      throw std::invalid_argument("route \"" + std::string(pattern) + "\": segment " +
                                  std::to_string(i + 1) + " \"" + std::string(part) + "\" " + why);
    };
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      auto name = part.substr(1, part.size() - 2);
      Segment::Kind kind = Segment::Kind::param;
      if (!name.empty() && name.front() == '*') {
        if (i + 1 != parts.size()) fail("is a rest parameter but not the last segment");
        name.remove_prefix(1);
        kind = Segment::Kind::rest;
      }
      if (name.empty()) fail("has no parameter name");
      if (name.find_first_of("{}/*") != std::string_view::npos) fail("has a malformed name");
      if (!names.insert(std::string(name)).second) fail("repeats a parameter name");
      route.segments.push_back({kind, std::string(name)});
    } else {
      if (part.find_first_of("{}") != std::string_view::npos) fail("mixes braces and text");
      auto literal = percent_decode(part, false);
      if (!literal) fail("has malformed percent-encoding");
      route.segments.push_back({Segment::Kind::literal, std::move(*literal)});
    }
  }
  for (const auto& r : routes_) {
    if (r.method == route.method && r.pattern == route.pattern) {
      throw std::invalid_argument("route " + route.method + " " + route.pattern +
                                  " is registered twice");
    }
  }
  routes_.push_back(std::move(route));
}

void Router::add_sync(std::string_view method, std::string_view pattern, SyncHandler handler) {
  if (!handler) throw std::invalid_argument("route " + std::string(pattern) + ": empty handler");
  add(method, pattern, sync_handler(std::move(handler)));
}

Router::Match Router::match(std::string_view method, std::string_view raw_path) const {
  Match m;
  if (raw_path.empty() || raw_path.front() != '/') {
    m.kind = Match::Kind::bad_request;
    return m;
  }
  std::vector<std::string> segments;
  for (const auto raw : split(raw_path.substr(1), '/')) {
    auto decoded = percent_decode(raw, false);
    if (!decoded) {
      m.kind = Match::Kind::bad_request;
      return m;
    }
    segments.push_back(std::move(*decoded));
  }
  for (const auto& segment : segments) {  // (not `= "/"`: GCC 12 -Wrestrict false positive)
    m.decoded_path.push_back('/');
    m.decoded_path.append(segment);
  }

  // Does route r match the path? Fills `params` when given. Allocates only for the parameters:
  // every request tries every route, and most do not match.
  const auto try_route = [&](const Route& r, PathParams* params) {
    std::size_t i = 0;
    for (const auto& seg : r.segments) {
      if (seg.kind == Segment::Kind::rest) {
        if (params) {
          std::string rest;
          for (std::size_t j = i; j < segments.size(); ++j) {
            if (j > i) rest += '/';
            rest += segments[j];
          }
          (*params)[seg.text] = std::move(rest);
        }
        return true;
      }
      if (i >= segments.size()) return false;
      if (seg.kind == Segment::Kind::literal ? segments[i] != seg.text : segments[i].empty())
        return false;
      if (params && seg.kind == Segment::Kind::param) (*params)[seg.text] = segments[i];
      ++i;
    }
    return i == segments.size();
  };
  // Of two matching routes the more specific wins: their segment kinds compared in order,
  // literal before parameter before rest (the rest parameter is always last).
  const auto more_specific = [](const Route& a, const Route& b) {
    return std::lexicographical_compare(
        a.segments.begin(), a.segments.end(), b.segments.begin(), b.segments.end(),
        [](const Segment& x, const Segment& y) { return x.kind < y.kind; });
  };

  std::set<std::string> allowed;
  const Route* best = nullptr;
  const Route* best_get = nullptr;  // for HEAD without a HEAD route
  for (const auto& r : routes_) {
    if (!try_route(r, nullptr)) continue;
    allowed.insert(r.method);
    if (r.method == method && (!best || more_specific(r, *best))) {
      best = &r;
    } else if (method == "HEAD" && r.method == "GET" &&
               (!best_get || more_specific(r, *best_get))) {
      best_get = &r;
    }
  }
  if (!best) best = best_get;
  if (best) {
    m.kind = Match::Kind::found;
    m.handler = &best->handler;
    m.route = best->pattern;
    (void)try_route(*best, &m.params);
    return m;
  }
  if (allowed.empty()) {
    m.kind = Match::Kind::not_found;
    return m;
  }
  if (allowed.count("GET")) allowed.insert("HEAD");
  m.kind = Match::Kind::method_not_allowed;
  for (const auto& a : allowed) {
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += a;
  }
  // The route of the best match among all methods, for metrics.
  const Route* any = nullptr;
  for (const auto& r : routes_) {
    if (try_route(r, nullptr) && (!any || more_specific(r, *any))) any = &r;
  }
  if (any) m.route = any->pattern;
  return m;
}

}  // namespace vigil::server
