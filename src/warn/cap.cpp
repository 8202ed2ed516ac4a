// SPDX-License-Identifier: Apache-2.0
// CAP parsing: libxml2 (no network, no entities, no DTD), XSD validation against the embedded
// OASIS schema, then the model and the checks the schema cannot express.
#include "warn/cap.hpp"

#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "warn/cap12_xsd.hpp"

namespace vigil::warn {
namespace {

constexpr std::string_view kNs12 = "urn:oasis:names:tc:emergency:cap:1.2";
constexpr std::string_view kNs11 = "urn:oasis:names:tc:emergency:cap:1.1";
constexpr std::string_view kNsDsig = "http://www.w3.org/2000/09/xmldsig#";

// ---------------------------------------------------------------------------------------------
// Enumerations

template <class E, std::size_t N>
struct EnumTable {
  std::array<std::pair<E, std::string_view>, N> items;
  std::string_view name(E v) const {
    for (const auto& [e, s] : items)
      if (e == v) return s;
    return "?";
  }
  std::optional<E> parse(std::string_view s) const {
    for (const auto& [e, n] : items)
      if (n == s) return e;
    return std::nullopt;
  }
};

constexpr EnumTable<Status, 5> kStatus{{{{Status::Actual, "Actual"},
                                         {Status::Exercise, "Exercise"},
                                         {Status::System, "System"},
                                         {Status::Test, "Test"},
                                         {Status::Draft, "Draft"}}}};
constexpr EnumTable<MsgType, 5> kMsgType{{{{MsgType::Alert, "Alert"},
                                           {MsgType::Update, "Update"},
                                           {MsgType::Cancel, "Cancel"},
                                           {MsgType::Ack, "Ack"},
                                           {MsgType::Error, "Error"}}}};
constexpr EnumTable<Scope, 3> kScope{
    {{{Scope::Public, "Public"}, {Scope::Restricted, "Restricted"}, {Scope::Private, "Private"}}}};
constexpr EnumTable<Category, 12> kCategory{{{{Category::Geo, "Geo"},
                                              {Category::Met, "Met"},
                                              {Category::Safety, "Safety"},
                                              {Category::Security, "Security"},
                                              {Category::Rescue, "Rescue"},
                                              {Category::Fire, "Fire"},
                                              {Category::Health, "Health"},
                                              {Category::Env, "Env"},
                                              {Category::Transport, "Transport"},
                                              {Category::Infra, "Infra"},
                                              {Category::CBRNE, "CBRNE"},
                                              {Category::Other, "Other"}}}};
constexpr EnumTable<ResponseType, 9> kResponseType{{{{ResponseType::Shelter, "Shelter"},
                                                     {ResponseType::Evacuate, "Evacuate"},
                                                     {ResponseType::Prepare, "Prepare"},
                                                     {ResponseType::Execute, "Execute"},
                                                     {ResponseType::Avoid, "Avoid"},
                                                     {ResponseType::Monitor, "Monitor"},
                                                     {ResponseType::Assess, "Assess"},
                                                     {ResponseType::AllClear, "AllClear"},
                                                     {ResponseType::None, "None"}}}};
constexpr EnumTable<Urgency, 5> kUrgency{{{{Urgency::Immediate, "Immediate"},
                                           {Urgency::Expected, "Expected"},
                                           {Urgency::Future, "Future"},
                                           {Urgency::Past, "Past"},
                                           {Urgency::Unknown, "Unknown"}}}};
constexpr EnumTable<Severity, 5> kSeverity{{{{Severity::Extreme, "Extreme"},
                                             {Severity::Severe, "Severe"},
                                             {Severity::Moderate, "Moderate"},
                                             {Severity::Minor, "Minor"},
                                             {Severity::Unknown, "Unknown"}}}};
constexpr EnumTable<Certainty, 5> kCertainty{{{{Certainty::Observed, "Observed"},
                                               {Certainty::Likely, "Likely"},
                                               {Certainty::Possible, "Possible"},
                                               {Certainty::Unlikely, "Unlikely"},
                                               {Certainty::Unknown, "Unknown"}}}};

// ---------------------------------------------------------------------------------------------
// Small helpers

std::string_view sv(const xmlChar* s) {
  return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_ws(s[i])) ++i;
    const std::size_t b = i;
    while (i < s.size() && !is_ws(s[i])) ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

// CAP's list form for <addresses> and <incidents>: space-separated, double quotes around
// entries that contain spaces.
std::vector<std::string> split_quoted(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_ws(s[i])) ++i;
    if (i >= s.size()) break;
    if (s[i] == '"') {
      const std::size_t e = s.find('"', i + 1);
      const std::size_t end = e == std::string_view::npos ? s.size() : e;
      out.emplace_back(s.substr(i + 1, end - i - 1));
      i = end + 1;
    } else {
      const std::size_t b = i;
      while (i < s.size() && !is_ws(s[i])) ++i;
      out.emplace_back(s.substr(b, i - b));
    }
  }
  return out;
}

std::optional<double> parse_double(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

std::string shorten(std::string_view s, std::size_t n = 60) {
  return s.size() <= n ? std::string(s) : std::string(s.substr(0, n)) + "...";
}

// ---------------------------------------------------------------------------------------------
// Error collection (libxml2 structured errors, per parse, on the calling thread)

struct Collector {
  CapErrors errors;
  std::size_t max_errors = 50;
  std::size_t dropped = 0;
  bool doctype = false;
  int doctype_line = 0;

  // An empty `where` becomes "document": the whole input is concerned.
  void add(std::string where, std::string message) {
    if (where.empty()) where = "document";
    if (errors.size() >= max_errors) {
      ++dropped;
      return;
    }
    errors.push_back(Error{std::move(where), std::move(message)});
  }
  CapErrors finish() && {
    if (dropped > 0)
      errors.push_back(Error{"document", fmt::format("{} more errors not shown", dropped)});
    return std::move(errors);
  }
};

thread_local Collector* t_collector = nullptr;

bool repeatable(std::string_view name) {
  return name == "info" || name == "area" || name == "polygon" || name == "circle" ||
         name == "geocode" || name == "parameter" || name == "eventCode" || name == "resource" ||
         name == "code" || name == "category" || name == "responseType";
}

// "alert/info[0]/area[1]/polygon[0]" for an element node.
std::string element_path(const xmlNode* node) {
  std::vector<std::string> parts;
  for (const xmlNode* n = node; n && n->type == XML_ELEMENT_NODE; n = n->parent) {
    std::string part(sv(n->name));
    if (repeatable(part)) {
      int index = 0;
      for (const xmlNode* s = n->prev; s; s = s->prev)
        if (s->type == XML_ELEMENT_NODE && xmlStrEqual(s->name, n->name)) ++index;
      part += fmt::format("[{}]", index);
    }
    parts.push_back(std::move(part));
    if (parts.size() > 64) break;  // pathological nesting: the tail is enough
  }
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    if (!out.empty()) out += '/';
    out += *it;
  }
  return out;
}

std::string where_of(const xmlNode* node) {
  if (!node) return {};
  return fmt::format("line {}: {}", xmlGetLineNo(node), element_path(node));
}

std::string clean_message(std::string_view m) {
  std::string s(trim(m));
  // "{urn:oasis:names:tc:emergency:cap:1.2}status" -> "status"
  for (std::string_view ns : {kNs12, kNs11}) {
    const std::string braced = "{" + std::string(ns) + "}";
    for (std::size_t p = s.find(braced); p != std::string::npos; p = s.find(braced, p))
      s.erase(p, braced.size());
  }
  return s;
}

void on_structured_error(void* /*user*/, xmlErrorPtr err) {
  Collector* c = t_collector;
  if (!c || !err || err->level < XML_ERR_ERROR) return;
  if (err->code == XML_ERR_USER_STOP) return;  // our own stop at a DOCTYPE, reported separately
  std::string where;
  const auto* node = static_cast<const xmlNode*>(err->node);
  if (node && node->type == XML_ELEMENT_NODE)
    where = where_of(node);
  else if (err->line > 0)
    where = fmt::format("line {}", err->line);
  std::string msg = clean_message(err->message ? err->message : "XML error");
  if (msg.empty()) msg = fmt::format("XML error {}", err->code);
  c->add(std::move(where), std::move(msg));
}

// SAX hook: the DOCTYPE declaration is seen before its internal subset is read; stop there so
// no entity (billion laughs, external SYSTEM entities) is ever declared, let alone expanded.
void on_internal_subset(void* ctx, const xmlChar* /*name*/, const xmlChar* /*external_id*/,
                        const xmlChar* /*system_id*/) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  if (t_collector && !t_collector->doctype) {
    t_collector->doctype = true;
    t_collector->doctype_line = ctxt && ctxt->input ? ctxt->input->line : 0;
  }
  xmlStopParser(ctxt);
}

// Restores the thread's libxml2 error handlers when a parse ends.
class ErrorScope {
 public:
  explicit ErrorScope(Collector& c) : prev_(t_collector) {
    t_collector = &c;
    xmlSetStructuredErrorFunc(nullptr, on_structured_error);
    xmlSetGenericErrorFunc(nullptr, silent_generic);
  }
  ~ErrorScope() {
    xmlSetStructuredErrorFunc(nullptr, nullptr);
    xmlSetGenericErrorFunc(nullptr, nullptr);
    t_collector = prev_;
  }
  ErrorScope(const ErrorScope&) = delete;
  ErrorScope& operator=(const ErrorScope&) = delete;

 private:
  static void silent_generic(void*, const char*, ...) {}
  Collector* prev_;
};

// ---------------------------------------------------------------------------------------------
// Schemas: compiled once (thread-safe static init), shared read-only by every validation.

struct SchemaDeleter {
  void operator()(xmlSchema* s) const { xmlSchemaFree(s); }
};
using SchemaPtr = std::unique_ptr<xmlSchema, SchemaDeleter>;

SchemaPtr compile_schema(const std::string& text, const char* what) {
  Collector c;
  ErrorScope scope(c);
  xmlSchemaParserCtxtPtr pctxt =
      xmlSchemaNewMemParserCtxt(text.data(), static_cast<int>(text.size()));
  if (!pctxt) throw std::logic_error(fmt::format("{}: cannot create the schema parser", what));
  xmlSchemaSetParserStructuredErrors(pctxt, on_structured_error, nullptr);
  SchemaPtr schema(xmlSchemaParse(pctxt));
  xmlSchemaFreeParserCtxt(pctxt);
  if (!schema) {
    std::string why;
    for (const auto& e : c.errors) why += "\n  " + e.to_string();
    throw std::logic_error(fmt::format("{} does not compile:{}", what, why));
  }
  return schema;
}

// CAP 1.1 differs from the 1.2 schema in its namespace and in its date-times (plain
// xs:dateTime: "Z" and fractions allowed); the structure and element order are the same. The
// 1.1 schema is derived from the embedded 1.2 text at start-up (the vendored file is untouched).
// It accepts 1.2's two new responseType values (Avoid, AllClear) in 1.1 documents too.
std::string derive_cap11_schema() {
  std::string s(cap12_xsd());
  std::size_t ns_count = 0;
  for (std::size_t p = s.find(kNs12); p != std::string::npos; p = s.find(kNs12, p)) {
    s.replace(p, kNs12.size(), kNs11);
    ++ns_count;
  }
  const std::string pattern =
      R"(<pattern value = "\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-,+]\d\d:\d\d"/>)";
  std::size_t pattern_count = 0;
  for (std::size_t p = s.find(pattern); p != std::string::npos; p = s.find(pattern, p)) {
    s.erase(p, pattern.size());
    ++pattern_count;
  }
  if (ns_count != 2 || pattern_count != 4)
    throw std::logic_error("the embedded CAP 1.2 schema is not the expected OASIS text");
  return s;
}

xmlSchema* schema_for(bool cap11) {
  static const bool init = [] {
    xmlInitParser();
    return true;
  }();
  (void)init;
  if (cap11) {
    static const SchemaPtr s11 = compile_schema(derive_cap11_schema(), "CAP 1.1 schema (derived)");
    return s11.get();
  }
  static const SchemaPtr s12 = compile_schema(std::string(cap12_xsd()), "CAP 1.2 schema");
  return s12.get();
}

// ---------------------------------------------------------------------------------------------
// Model extraction (the document has passed the schema: structure and enumerations hold)

struct DocDeleter {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
struct CtxtDeleter {
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};

std::string text_of(const xmlNode* n) {
  std::string out;
  xmlChar* content = xmlNodeGetContent(n);
  if (content) {
    out = std::string(trim(sv(content)));
    xmlFree(content);
  }
  return out;
}

bool is_cap(const xmlNode* n, std::string_view ns) {
  return n->type == XML_ELEMENT_NODE && n->ns && sv(n->ns->href) == ns;
}

std::string_view local(const xmlNode* n) { return sv(n->name); }

class Builder {
 public:
  Builder(Collector& c, std::string_view ns, bool cap11) : c_(c), ns_(ns), cap11_(cap11) {}

  CapAlert build(const xmlNode* root) {
    CapAlert a;
    a.version = cap11_ ? "1.1" : "1.2";
    for (const xmlNode* n = root->children; n; n = n->next) {
      if (n->type != XML_ELEMENT_NODE) continue;
      if (!is_cap(n, ns_)) {
        if (n->ns && sv(n->ns->href) == kNsDsig && local(n) == "Signature") a.signed_ = true;
        continue;
      }
      const std::string_view name = local(n);
      const std::string t = text_of(n);
      if (name == "identifier") {
        a.identifier = t;
        check_id_chars(n, t);
      } else if (name == "sender") {
        a.sender = t;
        check_id_chars(n, t);
      } else if (name == "sent") {
        a.sent = t;
        if (auto r = time(n, t, &a.sent_offset_minutes)) a.sent_ms = *r;
      } else if (name == "status") {
        a.status = kStatus.parse(t).value_or(Status::Actual);
      } else if (name == "msgType") {
        a.msg_type = kMsgType.parse(t).value_or(MsgType::Alert);
      } else if (name == "source") {
        a.source = t;
      } else if (name == "scope") {
        a.scope = kScope.parse(t).value_or(Scope::Public);
      } else if (name == "restriction") {
        a.restriction = t;
      } else if (name == "addresses") {
        a.addresses = split_quoted(t);
      } else if (name == "code") {
        a.codes.push_back(t);
      } else if (name == "note") {
        a.note = t;
      } else if (name == "references") {
        references(n, t, a.references);
      } else if (name == "incidents") {
        a.incidents = split_quoted(t);
      } else if (name == "info") {
        a.infos.push_back(info(n));
      }
    }
    const xmlNode* where = root;
    if ((a.msg_type == MsgType::Update || a.msg_type == MsgType::Cancel ||
         a.msg_type == MsgType::Ack || a.msg_type == MsgType::Error) &&
        a.references.empty())
      c_.add(where_of(where) + "/references",
             fmt::format("msgType {} must name the earlier message(s) in <references> "
                         "(\"sender,identifier,sent\" ...)",
                         kMsgType.name(a.msg_type)));
    if (a.scope == Scope::Private && a.addresses.empty())
      c_.add(where_of(where) + "/addresses", "scope Private requires <addresses> (the recipients)");
    if (a.scope == Scope::Restricted && a.restriction.empty())
      c_.add(where_of(where) + "/restriction",
             "scope Restricted requires <restriction> (who may see it)");
    return a;
  }

 private:
  std::optional<TimeMs> time(const xmlNode* n, std::string_view t, int* offset = nullptr) {
    auto r = parse_cap_time(t, cap11_, offset);
    if (!r) {
      c_.add(where_of(n), r.error().message);
      return std::nullopt;
    }
    return *r;
  }

  void check_id_chars(const xmlNode* n, std::string_view t) {
    if (t.empty()) {
      c_.add(where_of(n), fmt::format("<{}> is empty", local(n)));
      return;
    }
    for (char ch : t)
      if (is_ws(ch) || ch == ',' || ch == '<' || ch == '&') {
        c_.add(where_of(n),
               fmt::format("\"{}\" contains a space, comma, '<' or '&' (CAP forbids them in <{}>)",
                           shorten(t), local(n)));
        return;
      }
  }

  void references(const xmlNode* n, std::string_view t, std::vector<CapReference>& out) {
    std::size_t k = 0;
    for (std::string_view entry : split_ws(t)) {
      const std::size_t c1 = entry.find(',');
      const std::size_t c2 = c1 == std::string_view::npos ? c1 : entry.find(',', c1 + 1);
      if (c2 == std::string_view::npos || entry.find(',', c2 + 1) != std::string_view::npos ||
          c1 == 0 || c2 == c1 + 1 || c2 + 1 >= entry.size()) {
        c_.add(where_of(n), fmt::format("reference {} \"{}\" is not \"sender,identifier,sent\"", k,
                                        shorten(entry)));
      } else {
        CapReference r;
        r.sender = std::string(entry.substr(0, c1));
        r.identifier = std::string(entry.substr(c1 + 1, c2 - c1 - 1));
        r.sent = std::string(entry.substr(c2 + 1));
        auto tm = parse_cap_time(r.sent, cap11_);
        if (!tm)
          c_.add(where_of(n), fmt::format("reference {}: {}", k, tm.error().message));
        else
          r.sent_ms = *tm;
        out.push_back(std::move(r));
      }
      ++k;
    }
  }

  NameValue name_value(const xmlNode* n) {
    NameValue nv;
    for (const xmlNode* c = n->children; c; c = c->next) {
      if (!is_cap(c, ns_)) continue;
      if (local(c) == "valueName") nv.name = text_of(c);
      if (local(c) == "value") nv.value = text_of(c);
    }
    return nv;
  }

  CapInfo info(const xmlNode* node) {
    CapInfo in;
    in.line = static_cast<int>(xmlGetLineNo(node));
    for (const xmlNode* n = node->children; n; n = n->next) {
      if (!is_cap(n, ns_)) continue;
      const std::string_view name = local(n);
      if (name == "parameter" || name == "eventCode") {
        (name == "parameter" ? in.parameters : in.event_codes).push_back(name_value(n));
        continue;
      }
      if (name == "resource") {
        in.resources.push_back(resource(n));
        continue;
      }
      if (name == "area") {
        in.areas.push_back(area(n));
        continue;
      }
      const std::string t = text_of(n);
      if (name == "language")
        in.language = t;
      else if (name == "category") {
        if (auto v = kCategory.parse(t)) in.categories.push_back(*v);
      } else if (name == "event")
        in.event = t;
      else if (name == "responseType") {
        if (auto v = kResponseType.parse(t)) in.response_types.push_back(*v);
      } else if (name == "urgency")
        in.urgency = kUrgency.parse(t).value_or(Urgency::Unknown);
      else if (name == "severity")
        in.severity = kSeverity.parse(t).value_or(Severity::Unknown);
      else if (name == "certainty")
        in.certainty = kCertainty.parse(t).value_or(Certainty::Unknown);
      else if (name == "audience")
        in.audience = t;
      else if (name == "effective")
        in.effective_ms = time(n, t);
      else if (name == "onset")
        in.onset_ms = time(n, t);
      else if (name == "expires") {
        in.expires_ms = time(n, t);
        const std::optional<TimeMs> start = in.onset_ms ? in.onset_ms : in.effective_ms;
        if (in.expires_ms && start && *in.expires_ms < *start)
          c_.add(where_of(n),
                 fmt::format("expires {} is before {} {}", t, in.onset_ms ? "onset" : "effective",
                             format_cap_time(*start)));
      } else if (name == "senderName")
        in.sender_name = t;
      else if (name == "headline")
        in.headline = t;
      else if (name == "description")
        in.description = t;
      else if (name == "instruction")
        in.instruction = t;
      else if (name == "web")
        in.web = t;
      else if (name == "contact")
        in.contact = t;
    }
    return in;
  }

  CapResource resource(const xmlNode* node) {
    CapResource r;
    for (const xmlNode* n = node->children; n; n = n->next) {
      if (!is_cap(n, ns_)) continue;
      const std::string_view name = local(n);
      std::string t = text_of(n);
      if (name == "resourceDesc")
        r.resource_desc = std::move(t);
      else if (name == "mimeType")
        r.mime_type = std::move(t);
      else if (name == "size") {
        std::int64_t v = 0;
        std::string_view s = t;
        if (!s.empty() && s.front() == '+') s.remove_prefix(1);
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec != std::errc() || p != s.data() + s.size() || v < 0)
          c_.add(where_of(n),
                 fmt::format("size \"{}\" is not a byte count (0 to 2^63-1)", shorten(t)));
        else
          r.size_bytes = v;
      } else if (name == "uri")
        r.uri = std::move(t);
      else if (name == "derefUri")
        r.deref_uri = std::move(t);
      else if (name == "digest")
        r.digest = std::move(t);
    }
    return r;
  }

  CapArea area(const xmlNode* node) {
    CapArea a;
    a.line = static_cast<int>(xmlGetLineNo(node));
    for (const xmlNode* n = node->children; n; n = n->next) {
      if (!is_cap(n, ns_)) continue;
      const std::string_view name = local(n);
      if (name == "geocode") {
        a.geocodes.push_back(name_value(n));
        continue;
      }
      const std::string t = text_of(n);
      if (name == "areaDesc")
        a.area_desc = t;
      else if (name == "polygon") {
        if (auto p = polygon(n, t)) a.polygons.push_back(std::move(*p));
      } else if (name == "circle") {
        if (auto c = circle(n, t)) a.circles.push_back(*c);
      } else if (name == "altitude" || name == "ceiling") {
        const auto v = parse_double(t);
        if (!v) c_.add(where_of(n), fmt::format("\"{}\" is not a number of feet", shorten(t)));
        (name == "altitude" ? a.altitude_ft : a.ceiling_ft) = v;
      }
    }
    if (a.ceiling_ft && !a.altitude_ft)
      c_.add(where_of(node), "<ceiling> is only allowed together with <altitude>");
    if (a.ceiling_ft && a.altitude_ft && *a.ceiling_ft < *a.altitude_ft)
      c_.add(where_of(node),
             fmt::format("ceiling {} ft is below altitude {} ft", *a.ceiling_ft, *a.altitude_ft));
    return a;
  }

  std::optional<LatLon> point(const xmlNode* n, std::string_view token, std::size_t index) {
    const std::size_t comma = token.find(',');
    std::optional<double> lat, lon;
    if (comma != std::string_view::npos) {
      lat = parse_double(token.substr(0, comma));
      lon = parse_double(token.substr(comma + 1));
    }
    if (!lat || !lon) {
      c_.add(where_of(n), fmt::format("point {} \"{}\" is not \"lat,lon\" in decimal degrees",
                                      index, shorten(token)));
      return std::nullopt;
    }
    if (*lat < -90 || *lat > 90 || *lon < -180 || *lon > 180) {
      c_.add(where_of(n),
             fmt::format("point {} \"{}\": latitude must be in [-90, 90] and longitude in "
                         "[-180, 180] (WGS 84 degrees)",
                         index, shorten(token)));
      return std::nullopt;
    }
    return LatLon{*lat, *lon};
  }

  std::optional<CapPolygon> polygon(const xmlNode* n, std::string_view t) {
    const auto tokens = split_ws(t);
    if (tokens.empty()) return std::nullopt;  // <polygon/>: nothing said, nothing to check
    CapPolygon p;
    bool ok = true;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (auto pt = point(n, tokens[i], i))
        p.points.push_back(*pt);
      else
        ok = false;
    }
    if (!ok) return std::nullopt;
    if (p.points.size() < 4) {
      c_.add(where_of(n),
             fmt::format("a polygon needs at least 4 points (3 corners and the first repeated "
                         "to close it), got {}",
                         p.points.size()));
      return std::nullopt;
    }
    if (p.points.front().lat != p.points.back().lat ||
        p.points.front().lon != p.points.back().lon) {
      c_.add(where_of(n),
             fmt::format("the polygon is not closed: the last point \"{}\" must repeat the "
                         "first \"{}\"",
                         tokens.back(), tokens.front()));
      return std::nullopt;
    }
    return p;
  }

  std::optional<CapCircle> circle(const xmlNode* n, std::string_view t) {
    const auto tokens = split_ws(t);
    if (tokens.size() != 2) {
      c_.add(where_of(n), fmt::format("\"{}\" is not a circle \"lat,lon radius_km\"", shorten(t)));
      return std::nullopt;
    }
    const auto center = point(n, tokens[0], 0);
    const auto r = parse_double(tokens[1]);
    if (!r || *r < 0) {
      c_.add(where_of(n), fmt::format("circle radius \"{}\" must be a number of kilometres >= 0",
                                      shorten(tokens[1])));
      return std::nullopt;
    }
    if (!center) return std::nullopt;
    return CapCircle{*center, *r};
  }

  Collector& c_;
  std::string_view ns_;
  bool cap11_;
};

}  // namespace

std::string_view to_string(Status v) { return kStatus.name(v); }
std::string_view to_string(MsgType v) { return kMsgType.name(v); }
std::string_view to_string(Scope v) { return kScope.name(v); }
std::string_view to_string(Category v) { return kCategory.name(v); }
std::string_view to_string(ResponseType v) { return kResponseType.name(v); }
std::string_view to_string(Urgency v) { return kUrgency.name(v); }
std::string_view to_string(Severity v) { return kSeverity.name(v); }
std::string_view to_string(Certainty v) { return kCertainty.name(v); }

Expected<CapAlert, CapErrors> parse_cap(std::string_view xml, const ParseOptions& opt) {
  Collector c;
  c.max_errors = opt.max_errors == 0 ? 1 : opt.max_errors;
  if (xml.size() > opt.max_bytes)
    return unexpected(
        CapErrors{{"document", fmt::format("document of {} bytes exceeds the limit of {} bytes",
                                           xml.size(), opt.max_bytes)}});
  if (trim(xml).empty()) return unexpected(CapErrors{{"document", "empty document"}});
  if (xml.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return unexpected(CapErrors{{"document", "document too large for the XML parser"}});

  // Compile the schemas (once) before this parse installs its handlers.
  xmlSchema* schema12 = schema_for(false);
  xmlSchema* schema11 = opt.accept_cap11 ? schema_for(true) : nullptr;

  ErrorScope scope(c);
  std::unique_ptr<xmlParserCtxt, CtxtDeleter> ctxt(xmlNewParserCtxt());
  if (!ctxt) return unexpected(CapErrors{{"document", "out of memory creating the XML parser"}});
  ctxt->sax->internalSubset = on_internal_subset;
  ctxt->sax->serror = on_structured_error;
  // NONET: never fetch anything. No NOENT (entities are not substituted), no DTDLOAD/DTDATTR/
  // DTDVALID, no HUGE (libxml2's depth and size limits stay on). BIG_LINES: true line numbers.
  const int options = XML_PARSE_NONET | XML_PARSE_BIG_LINES;
  std::unique_ptr<xmlDoc, DocDeleter> doc(xmlCtxtReadMemory(
      ctxt.get(), xml.data(), static_cast<int>(xml.size()), "cap.xml", nullptr, options));
  if (c.doctype) {
    CapErrors errs{
        {fmt::format("line {}", c.doctype_line),
         "a DOCTYPE is not allowed in a CAP message (DTDs and entities are never processed)"}};
    return unexpected(std::move(errs));
  }
  if (!doc || !ctxt->wellFormed || doc->intSubset || doc->extSubset) {
    if (c.errors.empty()) c.add("", "the document is not well-formed XML");
    return unexpected(std::move(c).finish());
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root) return unexpected(CapErrors{{"document", "no root element"}});
  const std::string_view ns = root->ns ? sv(root->ns->href) : std::string_view();
  const bool cap11 = ns == kNs11;
  if (local(root) != "alert" || (ns != kNs12 && !(cap11 && opt.accept_cap11))) {
    c.add(fmt::format("line {}: {}", xmlGetLineNo(root), local(root)),
          fmt::format("the root element must be <alert> in namespace {}{} (found <{}>{}{})", kNs12,
                      opt.accept_cap11 ? " or " + std::string(kNs11) : "", local(root),
                      ns.empty() ? " without a namespace" : " in ", ns));
    return unexpected(std::move(c).finish());
  }

  xmlSchemaValidCtxtPtr vctxt = xmlSchemaNewValidCtxt(cap11 ? schema11 : schema12);
  if (!vctxt)
    return unexpected(CapErrors{{"document", "out of memory creating the schema validator"}});
  xmlSchemaSetValidStructuredErrors(vctxt, on_structured_error, nullptr);
  const int rc = xmlSchemaValidateDoc(vctxt, doc.get());
  xmlSchemaFreeValidCtxt(vctxt);
  if (rc != 0) {
    if (c.errors.empty())
      c.add("", fmt::format("not valid against the CAP {} schema", cap11 ? "1.1" : "1.2"));
    return unexpected(std::move(c).finish());
  }

  Builder b(c, cap11 ? kNs11 : kNs12, cap11);
  CapAlert alert = b.build(root);
  if (!c.errors.empty()) return unexpected(std::move(c).finish());
  return alert;
}

// ---------------------------------------------------------------------------------------------
// JSON

namespace {

nlohmann::json pairs_json(const std::vector<NameValue>& v) {
  auto out = nlohmann::json::array();
  for (const auto& nv : v) out.push_back({{"valueName", nv.name}, {"value", nv.value}});
  return out;
}

std::string utc(TimeMs t) { return format_cap_time(t, 0); }

}  // namespace

nlohmann::json to_json(const CapAlert& a) {
  using nlohmann::json;
  json j;
  j["version"] = a.version;
  j["identifier"] = a.identifier;
  j["sender"] = a.sender;
  j["sent"] = a.sent;
  j["sent_ms"] = a.sent_ms;
  j["status"] = to_string(a.status);
  j["msgType"] = to_string(a.msg_type);
  if (!a.source.empty()) j["source"] = a.source;
  j["scope"] = to_string(a.scope);
  if (!a.restriction.empty()) j["restriction"] = a.restriction;
  if (!a.addresses.empty()) j["addresses"] = a.addresses;
  if (!a.codes.empty()) j["code"] = a.codes;
  if (!a.note.empty()) j["note"] = a.note;
  if (!a.references.empty()) {
    json refs = json::array();
    for (const auto& r : a.references)
      refs.push_back({{"sender", r.sender},
                      {"identifier", r.identifier},
                      {"sent", r.sent},
                      {"sent_ms", r.sent_ms}});
    j["references"] = std::move(refs);
  }
  if (!a.incidents.empty()) j["incidents"] = a.incidents;
  j["signed"] = a.signed_;
  json infos = json::array();
  for (const auto& in : a.infos) {
    json ji;
    ji["language"] = in.language;
    json cats = json::array();
    for (auto c : in.categories) cats.push_back(to_string(c));
    ji["category"] = std::move(cats);
    ji["event"] = in.event;
    if (!in.response_types.empty()) {
      json rts = json::array();
      for (auto r : in.response_types) rts.push_back(to_string(r));
      ji["responseType"] = std::move(rts);
    }
    ji["urgency"] = to_string(in.urgency);
    ji["severity"] = to_string(in.severity);
    ji["certainty"] = to_string(in.certainty);
    if (!in.audience.empty()) ji["audience"] = in.audience;
    if (!in.event_codes.empty()) ji["eventCode"] = pairs_json(in.event_codes);
    if (in.effective_ms) ji["effective"] = utc(*in.effective_ms);
    if (in.onset_ms) ji["onset"] = utc(*in.onset_ms);
    if (in.expires_ms) ji["expires"] = utc(*in.expires_ms);
    for (const auto& [key, val] :
         {std::pair<const char*, const std::string*>{"senderName", &in.sender_name},
          {"headline", &in.headline},
          {"description", &in.description},
          {"instruction", &in.instruction},
          {"web", &in.web},
          {"contact", &in.contact}})
      if (!val->empty()) ji[key] = *val;
    if (!in.parameters.empty()) ji["parameter"] = pairs_json(in.parameters);
    if (!in.resources.empty()) {
      json rs = json::array();
      for (const auto& r : in.resources) {
        json jr{{"resourceDesc", r.resource_desc}, {"mimeType", r.mime_type}};
        if (r.size_bytes) jr["size"] = *r.size_bytes;
        if (!r.uri.empty()) jr["uri"] = r.uri;
        if (!r.deref_uri.empty()) jr["derefUri_bytes"] = r.deref_uri.size();  // content not echoed
        if (!r.digest.empty()) jr["digest"] = r.digest;
        rs.push_back(std::move(jr));
      }
      ji["resource"] = std::move(rs);
    }
    json areas = json::array();
    for (const auto& ar : in.areas) {
      json ja;
      ja["areaDesc"] = ar.area_desc;
      if (!ar.polygons.empty()) {
        json ps = json::array();
        for (const auto& p : ar.polygons) {
          json pts = json::array();
          for (const auto& pt : p.points) pts.push_back({pt.lat, pt.lon});
          ps.push_back(std::move(pts));
        }
        ja["polygon"] = std::move(ps);  // [[lat, lon], ...] per polygon
      }
      if (!ar.circles.empty()) {
        json cs = json::array();
        for (const auto& c : ar.circles)
          cs.push_back({{"lat", c.center.lat}, {"lon", c.center.lon}, {"radius_km", c.radius_km}});
        ja["circle"] = std::move(cs);
      }
      if (!ar.geocodes.empty()) ja["geocode"] = pairs_json(ar.geocodes);
      if (ar.altitude_ft) ja["altitude_ft"] = *ar.altitude_ft;
      if (ar.ceiling_ft) ja["ceiling_ft"] = *ar.ceiling_ft;
      areas.push_back(std::move(ja));
    }
    ji["area"] = std::move(areas);
    infos.push_back(std::move(ji));
  }
  j["info"] = std::move(infos);
  return j;
}

}  // namespace vigil::warn
