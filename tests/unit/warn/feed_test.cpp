// SPDX-License-Identifier: Apache-2.0
// Atom and RSS 2.0 feeds of CAP documents: links (Atom alternate / application/cap+xml, RSS
// link and enclosure), CAP embedded inline, relative links, and the refusals: not XML (with
// the line), not a feed, a DOCTYPE or entity, an oversized feed.
#include "warn/feed.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "warn/cap.hpp"

namespace vigil::warn {
namespace {

namespace fs = std::filesystem;

std::string read_data(const char* name) {
  std::ifstream in(fs::path(VIGIL_SOURCE_DIR) / "tests" / "data" / "cap" / name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The body of a CAP file without its XML declaration (to embed it in a feed).
std::string without_declaration(std::string doc) {
  if (doc.starts_with("<?xml")) doc.erase(0, doc.find("?>") + 2);
  return doc;
}

TEST(FeedTest, AtomEntriesLinkTheirCapDocuments) {
  // The shapes of NWS (rel="alternate"), MeteoAlarm (type application/cap+xml) and USGS
  // (rel="related", a relative link) feeds; an entry without a link is skipped.
  const std::string atom = R"(<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2">
  <title>Alerts</title>
  <entry>
    <id>https://api.weather.gov/alerts/urn:oid:2.49.0.1.840.0.1</id>
    <updated>2026-11-26T01:00:00-00:00</updated>
    <title>Blizzard Warning</title>
    <link rel="alternate" href="https://api.weather.gov/alerts/urn:oid:2.49.0.1.840.0.1"/>
    <cap:event>Blizzard Warning</cap:event>
  </entry>
  <entry>
    <id>meteoalarm-at-1</id>
    <published>2026-11-26T02:00:00Z</published>
    <link rel="alternate" type="text/html" href="https://meteoalarm.org/en/live/region/AT"/>
    <link hreflang="en" type="application/cap+xml" href="https://feeds.meteoalarm.org/api/v1/warnings/feeds-austria/abc"/>
  </entry>
  <entry>
    <id>urn:earthquake-usgs-gov:us:2008rkbc</id>
    <updated>2008-04-29T19:10:01Z</updated>
    <link rel="alternate" type="text/html" href="/eqcenter/recenteqsww/Quakes/us2008rkbc.php"/>
    <link rel="related" type="application/cap+xml" href="/eqcenter/catalogs/cap/us2008rkbc"/>
  </entry>
  <entry><id>no-link</id><title>News</title></entry>
</feed>
)";
  auto feed = parse_feed(atom, "https://earthquake.usgs.gov/feeds/atom.xml");
  ASSERT_TRUE(feed) << feed.error().to_string();
  EXPECT_EQ(feed->format, "atom");
  EXPECT_EQ(feed->title, "Alerts");
  ASSERT_EQ(feed->entries.size(), 3u);
  EXPECT_EQ(feed->entries[0].cap_url, "https://api.weather.gov/alerts/urn:oid:2.49.0.1.840.0.1");
  EXPECT_EQ(feed->entries[0].updated, "2026-11-26T01:00:00-00:00");
  EXPECT_EQ(feed->entries[0].title, "Blizzard Warning");
  EXPECT_EQ(feed->entries[0].line, 4);
  EXPECT_TRUE(feed->entries[0].inline_cap.empty());  // cap:* summary elements are not an alert
  EXPECT_EQ(feed->entries[1].cap_url, "https://feeds.meteoalarm.org/api/v1/warnings/feeds-austria/abc");
  EXPECT_EQ(feed->entries[1].updated, "2026-11-26T02:00:00Z");  // <published> when no <updated>
  EXPECT_EQ(feed->entries[2].cap_url, "https://earthquake.usgs.gov/eqcenter/catalogs/cap/us2008rkbc");
  ASSERT_EQ(feed->skipped.size(), 1u);
  EXPECT_NE(feed->skipped[0].find("line 23"), std::string::npos) << feed->skipped[0];
  // Keys tell entries apart, and an entry revised in place (new <updated>) is new again.
  EXPECT_NE(feed->entries[0].key(), feed->entries[1].key());
  FeedEntry revised = feed->entries[0];
  revised.updated = "2026-11-26T03:00:00-00:00";
  EXPECT_NE(revised.key(), feed->entries[0].key());
}

TEST(FeedTest, RssItemsUseEnclosureThenLink) {
  const std::string rss = R"(<?xml version="1.0"?>
<rss version="2.0"><channel>
  <title>CAP feed</title>
  <item>
    <title>Wind</title>
    <link>https://www.vedur.is/alerts/page.html</link>
    <enclosure url="https://www.vedur.is/cap/v1/capbroker/IMO-1.xml" length="4000" type="application/cap+xml"/>
    <guid isPermaLink="false">IMO-1</guid>
    <pubDate>Wed, 25 Nov 2026 10:00:00 GMT</pubDate>
  </item>
  <item>
    <title>Flood</title>
    <link>cap/flood-7.xml</link>
  </item>
</channel></rss>
)";
  auto feed = parse_feed(rss, "https://alerts.example.org/feeds/rss.xml?area=x");
  ASSERT_TRUE(feed) << feed.error().to_string();
  EXPECT_EQ(feed->format, "rss");
  ASSERT_EQ(feed->entries.size(), 2u);
  EXPECT_EQ(feed->entries[0].cap_url, "https://www.vedur.is/cap/v1/capbroker/IMO-1.xml");
  EXPECT_EQ(feed->entries[0].id, "IMO-1");
  EXPECT_EQ(feed->entries[0].updated, "Wed, 25 Nov 2026 10:00:00 GMT");
  EXPECT_EQ(feed->entries[1].cap_url, "https://alerts.example.org/feeds/cap/flood-7.xml");
  EXPECT_TRUE(feed->entries[1].id.empty());
  EXPECT_NE(feed->entries[0].key(), feed->entries[1].key());
}

TEST(FeedTest, InlineCapIsExtractedAsAValidDocument) {
  // Atom with the alert in <content> (the prefix declared on the feed's root only), and RSS
  // with the alert directly in the item: both come out as documents parse_cap() accepts.
  std::string body = without_declaration(read_data("oasis-cap12-a2-thunderstorm.xml"));
  // Prefix every CAP element with "c:" and declare the prefix on the feed's root.
  std::string prefixed;
  for (std::size_t i = 0; i < body.size(); ++i) {
    prefixed += body[i];
    if (body[i] == '<' && i + 1 < body.size() && body[i + 1] != '?' && body[i + 1] != '!') {
      if (body[i + 1] == '/') {
        prefixed += '/';
        ++i;
      }
      prefixed += "c:";
    }
  }
  const std::string ns_decl = "xmlns = \"urn:oasis:names:tc:emergency:cap:1.2\"";
  ASSERT_NE(prefixed.find(ns_decl), std::string::npos);
  prefixed.erase(prefixed.find(ns_decl), ns_decl.size());
  const std::string atom = R"(<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:c="urn:oasis:names:tc:emergency:cap:1.2">
  <entry><id>tag:example,2026:1</id><updated>2026-11-26T01:00:00Z</updated>
    <content type="application/cap+xml">)" + prefixed + R"(</content></entry>
</feed>)";
  auto feed = parse_feed(atom);
  ASSERT_TRUE(feed) << feed.error().to_string();
  ASSERT_EQ(feed->entries.size(), 1u);
  EXPECT_TRUE(feed->entries[0].cap_url.empty());
  auto cap = parse_cap(feed->entries[0].inline_cap);
  ASSERT_TRUE(cap) << feed->entries[0].inline_cap;
  EXPECT_EQ(cap->identifier, "KSTO1055887203");

  const std::string rss = "<rss version=\"2.0\"><channel><title>t</title><item><guid>x</guid>" +
                          without_declaration(read_data("imo-iceland-wind-warning.xml")) +
                          "</item></channel></rss>";
  auto rss_feed = parse_feed(rss);
  ASSERT_TRUE(rss_feed) << rss_feed.error().to_string();
  ASSERT_EQ(rss_feed->entries.size(), 1u);
  auto cap2 = parse_cap(rss_feed->entries[0].inline_cap);
  ASSERT_TRUE(cap2) << (cap2 ? "" : cap2.error()[0].to_string());
}

TEST(FeedTest, MalformedFeedsSayWhereAndWhy) {
  auto broken = parse_feed("<?xml version=\"1.0\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
                           "  <entry><id>1</id>\n  </feed>\n");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().where, "line 4") << broken.error().to_string();
  EXPECT_NE(broken.error().message.find("not well-formed"), std::string::npos);

  auto html = parse_feed("<html><body>Service unavailable</body></html>");
  ASSERT_FALSE(html);
  EXPECT_EQ(html.error().where, "line 1: html");
  EXPECT_NE(html.error().message.find("not a feed"), std::string::npos);

  auto atom_without_ns = parse_feed("<feed><entry/></feed>");
  ASSERT_FALSE(atom_without_ns);
  EXPECT_NE(atom_without_ns.error().message.find("not a feed"), std::string::npos);

  auto no_channel = parse_feed("<rss version=\"2.0\">\n<item/></rss>");
  ASSERT_FALSE(no_channel);
  EXPECT_EQ(no_channel.error().to_string(), "line 1: rss: no <channel>");

  EXPECT_FALSE(parse_feed(""));
  FeedParseOptions small;
  small.max_bytes = 10;
  auto big = parse_feed("<rss version=\"2.0\"><channel/></rss>", {}, small);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("exceeds the limit"), std::string::npos);
}

TEST(FeedTest, DoctypeAndEntitiesAreRefused) {
  const std::string laughs = R"(<?xml version="1.0"?>
<!DOCTYPE feed [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&b;</title></feed>)";
  auto r = parse_feed(laughs);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().where, "line 2");
  EXPECT_NE(r.error().message.find("DOCTYPE is not allowed"), std::string::npos);

  const std::string external = R"(<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><item><link>https://e.example/&x;</link></item></channel></rss>)";
  auto e = parse_feed(external);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("DOCTYPE"), std::string::npos);
  EXPECT_EQ(e.error().to_string().find("root:"), std::string::npos);

  // An undeclared entity is an error, never a fetch or a substitution.
  auto undeclared = parse_feed("<rss version=\"2.0\"><channel><item><link>&x;</link></item></channel></rss>");
  ASSERT_FALSE(undeclared);
  EXPECT_EQ(undeclared.error().where, "line 1");
}

TEST(FeedTest, RelativeLinksResolveAgainstTheFeed) {
  EXPECT_EQ(resolve_url("https://a.example/x/feed.xml", "cap/1.xml"), "https://a.example/x/cap/1.xml");
  EXPECT_EQ(resolve_url("https://a.example/x/feed.xml", "/cap/1.xml"), "https://a.example/cap/1.xml");
  EXPECT_EQ(resolve_url("https://a.example", "cap/1.xml"), "https://a.example/cap/1.xml");
  EXPECT_EQ(resolve_url("https://a.example/x/", "//b.example/c"), "https://b.example/c");
  EXPECT_EQ(resolve_url("https://a.example/", "http://c.example/d"), "http://c.example/d");
  EXPECT_EQ(resolve_url("https://a.example/", "file:///etc/passwd"), "");
  EXPECT_EQ(resolve_url("https://a.example/", "ftp://c.example/d"), "");
  EXPECT_EQ(resolve_url("", "cap/1.xml"), "");
}

}  // namespace
}  // namespace vigil::warn
