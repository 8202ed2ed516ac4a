// SPDX-License-Identifier: Apache-2.0
// Feeds corrupted variants of the real CAP documents (tests/data/cap) to the parser and the
// matcher: each must parse or fail with errors that say where and what, never crash (this suite
// also runs under AddressSanitizer + UBSan), and never resolve an external entity.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "warn/cap.hpp"
#include "warn/match.hpp"

namespace vigil::warn {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> real_documents() {
  std::vector<fs::path> paths;
  for (const auto& e :
       fs::directory_iterator(fs::path(VIGIL_SOURCE_DIR) / "tests" / "data" / "cap"))
    if (e.path().extension() == ".xml") paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(read(p));
  return out;
}

using Rng = std::mt19937_64;

std::size_t pick(Rng& rng, std::size_t n) {
  return n == 0 ? 0 : static_cast<std::size_t>(rng() % n);
}

// Start/end offsets of whole elements "<name ...>...</name>" (first match of the close tag).
struct Span {
  std::size_t begin, end;
};

std::vector<Span> elements(const std::string& doc) {
  std::vector<Span> out;
  for (std::size_t p = doc.find('<'); p != std::string::npos; p = doc.find('<', p + 1)) {
    if (p + 1 >= doc.size() || !std::isalpha(static_cast<unsigned char>(doc[p + 1]))) continue;
    std::size_t n = p + 1;
    while (n < doc.size() && doc[n] != '>' && doc[n] != ' ' && doc[n] != '/' && doc[n] != '\n') ++n;
    const std::string name = doc.substr(p + 1, n - p - 1);
    const std::size_t close = doc.find("</" + name + ">", n);
    if (close != std::string::npos) out.push_back({p, close + name.size() + 3});
  }
  return out;
}

// Offsets of text content (between '>' and the next '<').
std::vector<Span> texts(const std::string& doc) {
  std::vector<Span> out;
  for (std::size_t p = doc.find('>'); p != std::string::npos; p = doc.find('>', p + 1)) {
    const std::size_t q = doc.find('<', p + 1);
    if (q != std::string::npos && q > p + 1) out.push_back({p + 1, q});
  }
  return out;
}

const char* const kGarbage[] = {
    "",
    "\xff\xfe\xfd",
    "\xc3",
    "\xed\xa0\x80",
    "\xf4\x90\x80\x80",
    "1e999999",
    "-1e308",
    "NaN",
    "inf",
    "99999999999999999999999999999999",
    "-0",
    "0,0 0,0",
    "91,181 -91,-181 91,181 91,181",
    "2024-02-30T25:61:61+99:99",
    "&amp;&lt;&#0;",
    "&#x110000;",
    "&#xD800;",
    "<![CDATA[x]]>",
    "]]>",
    "<!-- c -->",
    "<?pi x?>",
    "&xxe;",
    "&lt;alert&gt;",
    " \t\r\n ",
    "\xe2\x80\xae",
    "Z",
    "a,b,c d,e,f",
};

// Entity and DTD attacks: each would read /etc/passwd or blow up if entities were processed.
const char* const kInjections[] = {
    "<!DOCTYPE alert [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>",
    "<!DOCTYPE alert SYSTEM \"file:///etc/passwd\">",
    "<!DOCTYPE alert PUBLIC \"-//X//Y\" \"http://127.0.0.1:9/evil.dtd\">",
    "<!DOCTYPE alert [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>",
    "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol1 "
    "\"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
    "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
    "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
    "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">]>",
    "<!DOCTYPE alert [<!ELEMENT alert ANY><!ATTLIST alert a CDATA #FIXED \"x\">]>",
};

std::string mutate(std::string doc, Rng& rng) {
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int e = 0; e < edits && !doc.empty(); ++e) {
    switch (rng() % 14) {
      case 0:  // truncate
        doc.resize(pick(rng, doc.size()));
        break;
      case 1: {  // delete an element
        const auto els = elements(doc);
        if (els.empty()) break;
        const Span s = els[pick(rng, els.size())];
        doc.erase(s.begin, s.end - s.begin);
        break;
      }
      case 2: {  // duplicate an element
        const auto els = elements(doc);
        if (els.empty()) break;
        const Span s = els[pick(rng, els.size())];
        doc.insert(s.end, doc.substr(s.begin, s.end - s.begin));
        break;
      }
      case 3: {  // swap two disjoint elements
        const auto els = elements(doc);
        if (els.size() < 2) break;
        Span a = els[pick(rng, els.size())], b = els[pick(rng, els.size())];
        if (a.begin > b.begin) std::swap(a, b);
        if (a.end > b.begin) break;
        const std::string ta = doc.substr(a.begin, a.end - a.begin),
                          tb = doc.substr(b.begin, b.end - b.begin);
        doc.replace(b.begin, tb.size(), ta);
        doc.replace(a.begin, ta.size(), tb);
        break;
      }
      case 4:
      case 5: {  // replace a text with garbage
        const auto ts = texts(doc);
        if (ts.empty()) break;
        const Span s = ts[pick(rng, ts.size())];
        doc.replace(s.begin, s.end - s.begin, kGarbage[pick(rng, std::size(kGarbage))]);
        break;
      }
      case 6: {  // a long text
        const auto ts = texts(doc);
        if (ts.empty()) break;
        const Span s = ts[pick(rng, ts.size())];
        doc.replace(s.begin, s.end - s.begin,
                    std::string(1000 + pick(rng, 20000), "x9,-. "[pick(rng, 6)]));
        break;
      }
      case 7: {  // DOCTYPE / entity injection after the XML declaration (or at the start)
        const std::size_t decl = doc.rfind("?>", 200);
        const std::size_t at = decl == std::string::npos || decl > 200 ? 0 : decl + 2;
        doc.insert(at, kInjections[pick(rng, std::size(kInjections))]);
        if (rng() % 2) {
          const auto ts = texts(doc);
          if (!ts.empty())
            doc.insert(ts[pick(rng, ts.size())].begin, rng() % 2 ? "&xxe;" : "&lol5;");
        }
        break;
      }
      case 8: {  // deep nesting inside an element
        const auto ts = texts(doc);
        if (ts.empty()) break;
        const std::size_t depth = 50 + pick(rng, 3000);
        std::string nest;
        for (std::size_t i = 0; i < depth; ++i) nest += "<d>";
        for (std::size_t i = 0; i < depth; ++i) nest += "</d>";
        doc.insert(ts[pick(rng, ts.size())].begin, nest);
        break;
      }
      case 9: {  // random bytes flipped
        const int n = 1 + static_cast<int>(rng() % 8);
        for (int k = 0; k < n; ++k) doc[pick(rng, doc.size())] = static_cast<char>(rng() & 0xFF);
        break;
      }
      case 10: {  // invalid UTF-8 inserted
        static const char* const kBad[] = {"\x80", "\xc0\xaf", "\xe0\x80\xaf",
                                           "\xf8\x88\x80\x80\x80", "\xfe"};
        doc.insert(pick(rng, doc.size()), kBad[pick(rng, std::size(kBad))]);
        break;
      }
      case 11: {  // namespace games
        static const char* const kNs[] = {"urn:oasis:names:tc:emergency:cap:1.1",
                                          "urn:oasis:names:tc:emergency:cap:1.0", "",
                                          "http://www.w3.org/2000/09/xmldsig#"};
        const std::size_t p = doc.find("urn:oasis:names:tc:emergency:cap:1.");
        if (p != std::string::npos) doc.replace(p, 37, kNs[pick(rng, std::size(kNs))]);
        break;
      }
      case 12: {  // XInclude and foreign elements (never processed)
        const auto els = elements(doc);
        if (els.empty()) break;
        doc.insert(
            els[pick(rng, els.size())].end,
            "<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"file:///etc/passwd\" "
            "parse=\"text\"/>");
        break;
      }
      case 13: {  // numbers at the edges in coordinates and sizes
        static const char* const kNum[] = {
            "<circle>0,0 1e308</circle>",  "<polygon>1,1 1,1 1,1 1,1</polygon>",
            "<circle>-90,-180 0</circle>", "<size>9223372036854775808</size>",
            "<altitude>1e400</altitude>",  "<polygon>0,0 0,1e-320 1e-320,0 0,0</polygon>"};
        const std::size_t p = doc.find("<areaDesc>");
        const std::size_t q = p == std::string::npos ? p : doc.find("</areaDesc>", p);
        if (q != std::string::npos) doc.insert(q + 11, kNum[pick(rng, std::size(kNum))]);
        break;
      }
    }
  }
  return doc;
}

TEST(CapMutation, CorruptedDocumentsParseOrFailClearly) {
  const auto docs = real_documents();
  ASSERT_GE(docs.size(), 8u);
  const std::string passwd = read("/etc/passwd");
  const std::string passwd_line =
      passwd.substr(0, passwd.find('\n'));  // e.g. "root:x:0:0:root:/root:/bin/bash"
  ASSERT_FALSE(passwd_line.empty());

  GatheringIndex index;
  for (int i = 0; i < 200; ++i) {
    GatheringRef g;
    g.id = "g" + std::to_string(i);
    g.lat = -60 + (i % 20) * 6.5;
    g.lon = -170 + (i / 20) * 34.0;
    g.radius_m = 500;
    g.starts_ms = 0;
    g.ends_ms = 4102444800000;  // 2100
    g.kind = "concert";
    g.venue_use = "stadium";
    index.upsert(g);
  }

  Rng rng(20240501);
  constexpr int kPerDocument = 1200;
  int parsed = 0, rejected = 0, injections = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t d = 0; d < docs.size(); ++d) {
    for (int i = 0; i < kPerDocument; ++i) {
      const std::string m = mutate(docs[d], rng);
      if (m.find("<!DOCTYPE") != std::string::npos) ++injections;
      auto r = parse_cap(m);
      if (r) {
        ++parsed;
        const std::string j = to_json(*r).dump();
        ASSERT_EQ(j.find(passwd_line), std::string::npos);
        (void)index.match(*r, 1700000000000);
      } else {
        ++rejected;
        ASSERT_FALSE(r.error().empty()) << "document " << d << " mutation " << i;
        for (const auto& e : r.error()) {
          ASSERT_FALSE(e.where.empty()) << m.substr(0, 300);
          ASSERT_FALSE(e.message.empty()) << m.substr(0, 300);
          ASSERT_EQ(e.message.find(passwd_line), std::string::npos);
        }
      }
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int total = parsed + rejected;
  std::printf("%d mutated documents: %d parsed, %d rejected (%d with a DOCTYPE) in %.1f s\n", total,
              parsed, rejected, injections, s);
  EXPECT_GE(total, 10000);
  EXPECT_GT(parsed, 100);  // many edits keep the document valid (e.g. duplicated parameters)
  EXPECT_GT(rejected, 5000);
}

TEST(CapMutation, EveryInjectionAloneIsRejectedWithoutReadingFiles) {
  const auto docs = real_documents();
  const std::string passwd = read("/etc/passwd");
  const std::string passwd_line = passwd.substr(0, passwd.find('\n'));
  for (const auto& doc : docs) {
    for (const char* inj : kInjections) {
      std::string m = doc;
      const std::size_t decl = m.find("?>");
      m.insert(decl == std::string::npos ? 0 : decl + 2, inj);
      auto r = parse_cap(m);
      ASSERT_FALSE(r) << inj;
      EXPECT_NE(r.error()[0].message.find("DOCTYPE"), std::string::npos)
          << r.error()[0].to_string();
      for (const auto& e : r.error()) EXPECT_EQ(e.message.find(passwd_line), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace vigil::warn
