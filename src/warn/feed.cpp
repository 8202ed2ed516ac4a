// SPDX-License-Identifier: Apache-2.0
#include "warn/feed.hpp"

#include <fmt/format.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <limits>
#include <memory>

namespace vigil::warn {
namespace {

constexpr std::string_view kAtomNs = "http://www.w3.org/2005/Atom";
constexpr std::string_view kCap12Ns = "urn:oasis:names:tc:emergency:cap:1.2";
constexpr std::string_view kCap11Ns = "urn:oasis:names:tc:emergency:cap:1.1";

std::string_view sv(const xmlChar* s) {
  return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}
std::string_view local(const xmlNode* n) { return sv(n->name); }
std::string_view ns_of(const xmlNode* n) { return n->ns ? sv(n->ns->href) : std::string_view(); }

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string text_of(const xmlNode* n) {
  xmlChar* t = xmlNodeGetContent(n);
  std::string out = trim(sv(t));
  xmlFree(t);
  return out;
}
std::string attr(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  std::string out = trim(sv(v));
  xmlFree(v);
  return out;
}

// The first error libxml2 reports during one parse, on this thread.
struct Collector {
  std::string first;
  bool doctype = false;
  long doctype_line = 0;
};
thread_local Collector* t_collector = nullptr;

void on_error(void* /*user*/, xmlErrorPtr err) {
  Collector* c = t_collector;
  if (!c || !err || err->level < XML_ERR_ERROR || err->code == XML_ERR_USER_STOP) return;
  if (!c->first.empty()) return;
  c->first = fmt::format("line {}: {}", err->line, trim(err->message ? err->message : "XML error"));
}
void silent_generic(void*, const char*, ...) {}

// Stops the parser at a DOCTYPE, before its internal subset (entity declarations) is read.
void on_internal_subset(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  if (t_collector && !t_collector->doctype) {
    t_collector->doctype = true;
    t_collector->doctype_line = ctxt && ctxt->input ? ctxt->input->line : 0;
  }
  xmlStopParser(ctxt);
}

class ErrorScope {
 public:
  explicit ErrorScope(Collector& c) : prev_(t_collector) {
    t_collector = &c;
    xmlSetStructuredErrorFunc(nullptr, on_error);
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
  Collector* prev_;
};

struct CtxtDeleter {
  void operator()(xmlParserCtxt* c) const { xmlFreeParserCtxt(c); }
};
struct DocDeleter {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

bool is_cap_alert(const xmlNode* n) {
  return n->type == XML_ELEMENT_NODE && local(n) == "alert" &&
         (ns_of(n) == kCap12Ns || ns_of(n) == kCap11Ns);
}

// The first CAP <alert> below `n` (depth first), or null.
const xmlNode* find_alert(const xmlNode* n) {
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (is_cap_alert(c)) return c;
    if (const xmlNode* a = find_alert(c)) return a;
  }
  return nullptr;
}

// `alert` copied into a document of its own (namespaces declared on the feed's root are
// declared again on the copy) and serialised.
std::string standalone(const xmlNode* alert) {
  std::unique_ptr<xmlDoc, DocDeleter> doc(xmlNewDoc(reinterpret_cast<const xmlChar*>("1.0")));
  xmlNode* copy = xmlDocCopyNode(const_cast<xmlNode*>(alert), doc.get(), 1);
  if (!copy) return {};
  xmlDocSetRootElement(doc.get(), copy);
  xmlReconciliateNs(doc.get(), copy);
  xmlChar* mem = nullptr;
  int size = 0;
  xmlDocDumpMemoryEnc(doc.get(), &mem, &size, "UTF-8");
  std::string out(reinterpret_cast<const char*>(mem), static_cast<std::size_t>(size > 0 ? size : 0));
  xmlFree(mem);
  return out;
}

bool is_cap_type(std::string_view type) {
  return type.find("cap+xml") != std::string_view::npos || type == "application/cap";
}

FeedEntry atom_entry(const xmlNode* e, std::string_view base) {
  FeedEntry out;
  out.line = xmlGetLineNo(e);
  std::string alternate;  // rel="alternate" or no rel
  std::string cap_link;   // type application/cap+xml, any rel
  std::string published;
  for (const xmlNode* c = e->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE || ns_of(c) != kAtomNs) continue;
    const auto name = local(c);
    if (name == "id") out.id = text_of(c);
    else if (name == "updated") out.updated = text_of(c);
    else if (name == "published") published = text_of(c);
    else if (name == "title") out.title = text_of(c);
    else if (name == "link") {
      const std::string href = attr(c, "href");
      const std::string rel = attr(c, "rel");
      if (href.empty()) continue;
      if (is_cap_type(attr(c, "type"))) {
        if (cap_link.empty()) cap_link = href;
      } else if ((rel.empty() || rel == "alternate") && alternate.empty()) {
        alternate = href;
      }
    }
  }
  if (out.updated.empty()) out.updated = published;
  if (const xmlNode* a = find_alert(e)) out.inline_cap = standalone(a);
  if (out.inline_cap.empty()) {
    out.cap_url = resolve_url(base, !cap_link.empty() ? cap_link : alternate);
  }
  return out;
}

FeedEntry rss_item(const xmlNode* item, std::string_view base) {
  FeedEntry out;
  out.line = xmlGetLineNo(item);
  std::string link;
  std::string enclosure;
  for (const xmlNode* c = item->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE || c->ns) continue;  // RSS 2.0 elements have no namespace
    const auto name = local(c);
    if (name == "guid") out.id = text_of(c);
    else if (name == "pubDate") out.updated = text_of(c);
    else if (name == "title") out.title = text_of(c);
    else if (name == "link") link = text_of(c);
    else if (name == "enclosure" && enclosure.empty()) {
      const std::string type = attr(c, "type");
      if (type.empty() || is_cap_type(type) || type.find("xml") != std::string::npos)
        enclosure = attr(c, "url");
    }
  }
  if (const xmlNode* a = find_alert(item)) out.inline_cap = standalone(a);
  if (out.inline_cap.empty()) {
    // An enclosure is the document itself; <link> may be a web page, so it comes second.
    out.cap_url = resolve_url(base, !enclosure.empty() ? enclosure : link);
  }
  return out;
}

}  // namespace

std::string FeedEntry::key() const {
  std::string who = !id.empty() ? id : !cap_url.empty() ? cap_url : inline_cap;
  return who + "\n" + updated;
}

std::string resolve_url(std::string_view base, std::string_view link) {
  const std::string l = trim(link);
  if (l.empty()) return {};
  if (l.starts_with("http://") || l.starts_with("https://")) return l;
  if (l.find("://") != std::string::npos || l.starts_with("javascript:") ||
      l.starts_with("file:") || l.starts_with("data:"))
    return {};
  const std::string b(base);
  const auto scheme_end = b.find("://");
  if (scheme_end == std::string::npos || !(b.starts_with("http://") || b.starts_with("https://")))
    return {};
  if (l.starts_with("//")) return b.substr(0, scheme_end + 1) + l;
  const auto path_start = b.find('/', scheme_end + 3);
  const std::string origin = path_start == std::string::npos ? b : b.substr(0, path_start);
  if (l.starts_with("/")) return origin + l;
  std::string dir = path_start == std::string::npos ? "/" : b.substr(path_start);
  if (const auto q = dir.find_first_of("?#"); q != std::string::npos) dir.resize(q);
  dir.resize(dir.rfind('/') + 1);
  return origin + dir + l;
}

Result<Feed> parse_feed(std::string_view xml, std::string_view base_url,
                        const FeedParseOptions& options) {
  if (xml.size() > options.max_bytes)
    return unexpected(Error{"document", fmt::format("feed of {} bytes exceeds the limit of {} bytes",
                                                    xml.size(), options.max_bytes)});
  if (trim(xml).empty()) return unexpected(Error{"document", "empty feed"});
  if (xml.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return unexpected(Error{"document", "feed too large for the XML parser"});

  Collector c;
  ErrorScope scope(c);
  std::unique_ptr<xmlParserCtxt, CtxtDeleter> ctxt(xmlNewParserCtxt());
  if (!ctxt) return unexpected(Error{"document", "out of memory creating the XML parser"});
  ctxt->sax->internalSubset = on_internal_subset;
  ctxt->sax->serror = on_error;
  // As parse_cap(): NONET, no NOENT, no DTD loading, no HUGE, true line numbers.
  const int flags = XML_PARSE_NONET | XML_PARSE_BIG_LINES;
  std::unique_ptr<xmlDoc, DocDeleter> doc(xmlCtxtReadMemory(
      ctxt.get(), xml.data(), static_cast<int>(xml.size()), "feed.xml", nullptr, flags));
  if (c.doctype)
    return unexpected(Error{fmt::format("line {}", c.doctype_line),
                            "a DOCTYPE is not allowed in a feed (DTDs and entities are never processed)"});
  if (!doc || !ctxt->wellFormed || doc->intSubset || doc->extSubset) {
    if (c.first.empty()) return unexpected(Error{"document", "the feed is not well-formed XML"});
    const auto colon = c.first.find(": ");
    return unexpected(Error{c.first.substr(0, colon), "not well-formed XML: " + c.first.substr(colon + 2)});
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root) return unexpected(Error{"document", "no root element"});

  Feed feed;
  auto add = [&](FeedEntry e) {
    if (e.inline_cap.empty() && e.cap_url.empty()) {
      feed.skipped.push_back(fmt::format("line {}: an entry without a CAP link or inline <alert>", e.line));
      return;
    }
    feed.entries.push_back(std::move(e));
  };
  if (local(root) == "feed" && ns_of(root) == kAtomNs) {
    feed.format = "atom";
    for (const xmlNode* n = root->children; n; n = n->next) {
      if (n->type != XML_ELEMENT_NODE || ns_of(n) != kAtomNs) continue;
      if (local(n) == "title") feed.title = text_of(n);
      else if (local(n) == "entry") add(atom_entry(n, base_url));
    }
    return feed;
  }
  if (local(root) == "rss" && !root->ns) {
    feed.format = "rss";
    const xmlNode* channel = nullptr;
    for (const xmlNode* n = root->children; n && !channel; n = n->next) {
      if (n->type == XML_ELEMENT_NODE && !n->ns && local(n) == "channel") channel = n;
    }
    if (!channel)
      return unexpected(Error{fmt::format("line {}: rss", xmlGetLineNo(root)), "no <channel>"});
    for (const xmlNode* n = channel->children; n; n = n->next) {
      if (n->type != XML_ELEMENT_NODE || n->ns) continue;
      if (local(n) == "title") feed.title = text_of(n);
      else if (local(n) == "item") add(rss_item(n, base_url));
    }
    return feed;
  }
  const std::string_view ns = ns_of(root);
  return unexpected(Error{
      fmt::format("line {}: {}", xmlGetLineNo(root), local(root)),
      fmt::format("not a feed: the root must be Atom <feed> ({}) or RSS 2.0 <rss> (found <{}>{}{})",
                  kAtomNs, local(root), ns.empty() ? "" : " in ", ns)});
}

}  // namespace vigil::warn
