// SPDX-License-Identifier: Apache-2.0
// CAP parsing and validation: the embedded schema, real documents from several issuers, and
// every rule beyond the schema, each failing with where and what.
#include "warn/cap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "warn/cap12_xsd.hpp"

namespace vigil::warn {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path data_dir() { return fs::path(VIGIL_SOURCE_DIR) / "tests" / "data" / "cap"; }

std::string all_errors(const CapErrors& errors) {
  std::string s;
  for (const auto& e : errors) s += e.to_string() + "\n";
  return s;
}

// A minimal valid alert around `info` (inserted after <scope>, before nothing else).
std::string doc(const std::string& info, const std::string& msg_type = "Alert",
                const std::string& extra = "") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n"
         "  <identifier>T-1</identifier>\n"
         "  <sender>test@vigil.example</sender>\n"
         "  <sent>2024-05-01T18:00:00+02:00</sent>\n"
         "  <status>Actual</status>\n"
         "  <msgType>" +
         msg_type +
         "</msgType>\n"
         "  <scope>Public</scope>\n" +
         extra + info + "</alert>\n";
}

std::string info_with_area(const std::string& area_body) {
  return "  <info>\n"
         "    <category>Safety</category>\n"
         "    <event>Test</event>\n"
         "    <urgency>Immediate</urgency>\n"
         "    <severity>Severe</severity>\n"
         "    <certainty>Likely</certainty>\n"
         "    <area>\n"
         "      <areaDesc>Somewhere</areaDesc>\n" +
         area_body +
         "    </area>\n"
         "  </info>\n";
}

// Expects failure with an error whose where and message contain the given texts.
void expect_error(const std::string& xml, const std::string& where_part,
                  const std::string& message_part) {
  auto r = parse_cap(xml);
  ASSERT_FALSE(r) << "expected an error containing: " << message_part;
  const auto& errs = r.error();
  const bool found = std::any_of(errs.begin(), errs.end(), [&](const Error& e) {
    return e.where.find(where_part) != std::string::npos &&
           e.message.find(message_part) != std::string::npos;
  });
  EXPECT_TRUE(found) << "wanted where~\"" << where_part << "\" message~\"" << message_part
                     << "\", got:\n"
                     << all_errors(errs);
  for (const auto& e : errs) EXPECT_FALSE(e.message.empty());
}

TEST(Cap12Xsd, EmbeddedTextEqualsVendoredFile) {
  const std::string file =
      read(fs::path(VIGIL_SOURCE_DIR) / "src" / "warn" / "schema" / "cap12.xsd");
  ASSERT_EQ(file.size(), 10098u);
  EXPECT_TRUE(cap12_xsd() == file)
      << "src/warn/cap12_xsd.cpp differs from src/warn/schema/cap12.xsd";
}

// ---- Real documents -------------------------------------------------------------------------

TEST(CapRealDocuments, EveryCollectedDocumentParsesAndValidates) {
  int count = 0;
  for (const auto& e : fs::directory_iterator(data_dir())) {
    if (e.path().extension() != ".xml") continue;
    ++count;
    auto r = parse_cap(read(e.path()));
    EXPECT_TRUE(r) << e.path().filename() << ":\n" << (r ? "" : all_errors(r.error()));
  }
  EXPECT_GE(count, 8);
}

TEST(CapRealDocuments, OasisThunderstormModelsEveryField) {
  auto r = parse_cap(read(data_dir() / "oasis-cap12-a2-thunderstorm.xml"));
  ASSERT_TRUE(r);
  const CapAlert& a = *r;
  EXPECT_EQ(a.version, "1.2");
  EXPECT_EQ(a.identifier, "KSTO1055887203");
  EXPECT_EQ(a.sender, "KSTO@NWS.NOAA.GOV");
  EXPECT_EQ(a.sent_offset_minutes, -7 * 60);
  EXPECT_EQ(a.sent_ms, *parse_cap_time("2003-06-17T21:57:00-00:00"));
  EXPECT_EQ(a.status, Status::Actual);
  EXPECT_EQ(a.msg_type, MsgType::Alert);
  EXPECT_EQ(a.scope, Scope::Public);
  ASSERT_EQ(a.infos.size(), 1u);
  const CapInfo& in = a.infos[0];
  EXPECT_EQ(in.language, "en-US");  // schema default
  ASSERT_EQ(in.categories.size(), 1u);
  EXPECT_EQ(in.categories[0], Category::Met);
  EXPECT_EQ(in.event, "SEVERE THUNDERSTORM");
  ASSERT_EQ(in.response_types.size(), 1u);
  EXPECT_EQ(in.response_types[0], ResponseType::Shelter);
  EXPECT_EQ(in.urgency, Urgency::Immediate);
  EXPECT_EQ(in.severity, Severity::Severe);
  EXPECT_EQ(in.certainty, Certainty::Observed);
  ASSERT_EQ(in.event_codes.size(), 1u);
  EXPECT_EQ(in.event_codes[0].name, "SAME");
  EXPECT_EQ(in.event_codes[0].value, "SVR");
  ASSERT_TRUE(in.expires_ms);
  EXPECT_EQ(*in.expires_ms - a.sent_ms, 63 * 60 * 1000);
  EXPECT_EQ(in.contact, "BARUFFALDI/JUSKIE");
  ASSERT_EQ(in.areas.size(), 1u);
  ASSERT_EQ(in.areas[0].polygons.size(), 1u);
  EXPECT_EQ(in.areas[0].polygons[0].points.size(), 5u);
  EXPECT_DOUBLE_EQ(in.areas[0].polygons[0].points[1].lat, 38.34);
  EXPECT_DOUBLE_EQ(in.areas[0].polygons[0].points[1].lon, -119.95);
  EXPECT_EQ(in.areas[0].geocodes.size(), 3u);
}

TEST(CapRealDocuments, UpdateReferencesAreTriples) {
  auto r = parse_cap(read(data_dir() / "ntwc-tsunami-cancellation-update.xml"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->references.size(), 3u);
  EXPECT_EQ(r->references[1].sender, "wcatwc@noaa.gov");
  EXPECT_EQ(r->references[1].identifier, "PAAQ-2-mg5a94");
  EXPECT_EQ(r->references[1].sent_ms, *parse_cap_time("2013-01-05T09:30:16-00:00"));
  EXPECT_EQ(r->incidents, std::vector<std::string>{"mg5a94"});
  EXPECT_TRUE(r->signed_);
  ASSERT_EQ(r->infos[0].areas[0].circles.size(), 1u);
  EXPECT_DOUBLE_EQ(r->infos[0].areas[0].circles[0].radius_km, 0.0);
  EXPECT_EQ(r->infos[0].resources[0].mime_type, "application/json");
}

TEST(CapRealDocuments, Cap11IsAcceptedAndMarked) {
  auto r = parse_cap(read(data_dir() / "nws-cap11-blizzard-warning.xml"));
  ASSERT_TRUE(r) << all_errors(r.error());
  EXPECT_EQ(r->version, "1.1");
  EXPECT_TRUE(r->infos[0].areas[0].polygons.empty());  // NWS sends an empty <polygon/>
  EXPECT_EQ(r->infos[0].areas[0].geocodes.size(), 4u);
  ParseOptions strict;
  strict.accept_cap11 = false;
  auto s = parse_cap(read(data_dir() / "nws-cap11-blizzard-warning.xml"), strict);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error()[0].message.find("urn:oasis:names:tc:emergency:cap:1.2"), std::string::npos);
}

TEST(CapRealDocuments, Cap11IsValidatedByTheDerivedSchema) {
  const std::string nws = read(data_dir() / "nws-cap11-blizzard-warning.xml");
  std::string zulu = nws;  // CAP 1.1 allows "Z" and fractions
  zulu.replace(zulu.find("<sent>2021-12-27T10:08:00-06:00"), 31, "<sent>2021-12-27T16:08:00.5Z");
  auto r = parse_cap(zulu);
  ASSERT_TRUE(r) << all_errors(r.error());
  EXPECT_EQ(r->sent_ms, *parse_cap_time("2021-12-27T10:08:00-06:00") + 500);
  std::string bad = nws;  // but the structure and enumerations are checked
  bad.replace(bad.find("<urgency>Expected"), 17, "<urgency>Soon");
  expect_error(bad, "alert/info[0]/urgency", "Soon");
  std::string order = nws;
  order.replace(order.find("<status>"), 0, "<msgType>Alert</msgType>");
  expect_error(order, "alert/", "msgType");
}

TEST(CapRealDocuments, PrefixedNamespaceAndUnicodeText) {
  auto bom = parse_cap(read(data_dir() / "bom-au-thunderstorm-prefixed.xml"));
  ASSERT_TRUE(bom);
  EXPECT_EQ(bom->infos[0].areas[0].geocodes.size(), 7u);
  EXPECT_EQ(bom->codes.size(), 1u);
  auto imo = parse_cap(read(data_dir() / "imo-iceland-wind-warning.xml"));
  ASSERT_TRUE(imo);
  EXPECT_EQ(imo->infos.size(), 2u);
  EXPECT_EQ(imo->infos[0].areas[0].area_desc, "Höfuðborgarsvæðið");
  EXPECT_EQ(imo->infos[0].resources[0].size_bytes, 17296);
  auto tw = parse_cap(read(data_dir() / "wra-taiwan-reservoir-release.xml"));
  ASSERT_TRUE(tw);
  EXPECT_EQ(tw->infos[0].event, "水庫洩洪");
  EXPECT_EQ(tw->sent_offset_minutes, 8 * 60);
}

TEST(CapRealDocuments, ToJsonCarriesTheModel) {
  auto r = parse_cap(read(data_dir() / "oasis-cap12-a3-earthquake-update.xml"));
  ASSERT_TRUE(r);
  const nlohmann::json j = to_json(*r);
  EXPECT_EQ(j["msgType"], "Update");
  EXPECT_EQ(j["references"][0]["identifier"], "TRI13970876.1");
  EXPECT_EQ(j["info"][0]["category"][0], "Geo");
  EXPECT_EQ(j["info"][0]["parameter"].size(), 5u);
  EXPECT_DOUBLE_EQ(j["info"][0]["area"][0]["circle"][0]["lat"].get<double>(), 32.9525);
}

// ---- Schema errors --------------------------------------------------------------------------

TEST(CapValidation, SchemaErrorsSayLineAndElement) {
  std::string x = doc(info_with_area(""));
  x.replace(x.find("<status>Actual"), 14, "<status>Actuel");
  expect_error(x, "line 6: alert/status", "Actuel");
}

TEST(CapValidation, MissingRequiredElement) {
  std::string x = doc(info_with_area(""));
  x.erase(x.find("    <event>Test</event>\n"), 24);
  expect_error(x, "alert/info[0]", "event");
}

TEST(CapValidation, ZuluTimeIsRejectedByTheCap12Pattern) {
  std::string x = doc(info_with_area(""));
  x.replace(x.find("2024-05-01T18:00:00+02:00"), 25, "2024-05-01T16:00:00Z");
  expect_error(x, "alert/sent", "sent");
}

TEST(CapValidation, NotWellFormedGivesTheLine) {
  expect_error(
      "<?xml version=\"1.0\"?>\n<alert "
      "xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n<identifier>x</sender>\n</alert>",
      "line 3", "mismatch");
}

TEST(CapValidation, WrongRootOrNamespace) {
  expect_error("<alert><identifier>x</identifier></alert>", "line 1: alert", "namespace");
  expect_error("<feed xmlns=\"http://www.w3.org/2005/Atom\"/>", "feed", "<alert>");
}

TEST(CapValidation, EmptyAndOversizedDocuments) {
  expect_error("", "", "empty");
  ParseOptions small;
  small.max_bytes = 100;
  auto r = parse_cap(doc(info_with_area("")), small);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error()[0].message.find("exceeds the limit of 100 bytes"), std::string::npos);
}

// ---- Security -------------------------------------------------------------------------------

TEST(CapSecurity, DoctypeIsRejected) {
  std::string x = doc(info_with_area(""));
  x.insert(x.find("<alert"), "<!DOCTYPE alert>\n");
  expect_error(x, "line 2", "DOCTYPE is not allowed");
}

TEST(CapSecurity, ExternalEntityIsNeverResolved) {
  const std::string x =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE alert [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
      "<alert "
      "xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>&xxe;</identifier></alert>";
  auto r = parse_cap(x);
  ASSERT_FALSE(r);
  for (const auto& e : r.error()) EXPECT_EQ(e.message.find("root:"), std::string::npos);
  EXPECT_NE(r.error()[0].message.find("DOCTYPE"), std::string::npos);
}

TEST(CapSecurity, BillionLaughsIsRejectedQuickly) {
  std::string x = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">";
  for (int i = 1; i < 10; ++i)
    x += "<!ENTITY lol" + std::to_string(i) + " \"" + [&] {
      std::string s;
      for (int k = 0; k < 10; ++k)
        s += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
      return s;
    }() + "\">";
  x += "]>\n<alert "
       "xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>&lol9;</identifier></alert>";
  const auto t0 = std::chrono::steady_clock::now();
  auto r = parse_cap(x);
  ASSERT_FALSE(r);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

TEST(CapSecurity, UndeclaredEntityIsAnError) {
  std::string x = doc(info_with_area(""));
  x.replace(x.find("T-1"), 3, "&xxe;");
  expect_error(x, "line 3", "xxe");
}

TEST(CapSecurity, DeepNestingIsRefused) {
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "<a>";
  std::string x = doc(info_with_area(""));
  x.replace(x.find("T-1"), 3, deep);
  auto r = parse_cap(x);
  ASSERT_FALSE(r);
  EXPECT_FALSE(r.error()[0].message.empty());
}

// ---- Rules beyond the schema ----------------------------------------------------------------

TEST(CapGeometry, PolygonMustBeClosed) {
  expect_error(
      doc(info_with_area(
          "      <polygon>38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89</polygon>\n")),
      "line 17: alert/info[0]/area[0]/polygon[0]", "not closed");
}

TEST(CapGeometry, PolygonNeedsFourPoints) {
  expect_error(
      doc(info_with_area("      <polygon>38.47,-120.14 38.34,-119.95 38.47,-120.14</polygon>\n")),
      "polygon[0]", "at least 4 points");
}

TEST(CapGeometry, CoordinatesInRange) {
  expect_error(doc(info_with_area("      <polygon>91,0 1,1 1,0 91,0</polygon>\n")), "polygon[0]",
               "latitude must be in [-90, 90]");
  expect_error(doc(info_with_area("      <polygon>1,181 1,1 2,0 1,181</polygon>\n")), "polygon[0]",
               "longitude");
  expect_error(doc(info_with_area("      <polygon>1;2 1,1 2,0 1;2</polygon>\n")), "polygon[0]",
               "not \"lat,lon\"");
}

TEST(CapGeometry, SecondAreaIsNamedInThePath) {
  std::string info = info_with_area("");
  info.replace(info.find("    </area>\n"), 12,
               "    </area>\n    <area>\n      <areaDesc>B</areaDesc>\n      <polygon>1,1 1,2 2,2 "
               "2,1</polygon>\n"
               "    </area>\n");
  expect_error(doc(info), "alert/info[0]/area[1]/polygon[0]", "not closed");
}

TEST(CapGeometry, Circle) {
  auto r = parse_cap(doc(info_with_area("      <circle>55.75,37.62 2.5</circle>\n")));
  ASSERT_TRUE(r) << all_errors(r.error());
  EXPECT_DOUBLE_EQ(r->infos[0].areas[0].circles[0].center.lat, 55.75);
  EXPECT_DOUBLE_EQ(r->infos[0].areas[0].circles[0].radius_km, 2.5);
  expect_error(doc(info_with_area("      <circle>55.75,37.62 -1</circle>\n")), "circle[0]", ">= 0");
  expect_error(doc(info_with_area("      <circle>55.75,37.62</circle>\n")), "circle[0]",
               "lat,lon radius_km");
  expect_error(doc(info_with_area("      <circle>55.75,37.62 1e999</circle>\n")), "circle[0]",
               "radius");
}

TEST(CapGeometry, CeilingNeedsAltitude) {
  expect_error(doc(info_with_area("      <ceiling>100</ceiling>\n")), "area[0]",
               "only allowed together with <altitude>");
  auto r = parse_cap(
      doc(info_with_area("      <altitude>10</altitude>\n      <ceiling>100</ceiling>\n")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->infos[0].areas[0].ceiling_ft, 100.0);
}

TEST(CapRules, UpdateAndCancelNeedReferences) {
  expect_error(doc(info_with_area(""), "Update"), "alert/references", "msgType Update");
  expect_error(doc(info_with_area(""), "Cancel"), "alert/references", "msgType Cancel");
  auto ok = parse_cap(
      doc(info_with_area(""), "Cancel",
          "  <references>test@vigil.example,T-0,2024-05-01T17:00:00+02:00</references>\n"));
  ASSERT_TRUE(ok) << all_errors(ok.error());
  EXPECT_EQ(ok->references[0].identifier, "T-0");
}

TEST(CapRules, MalformedReference) {
  expect_error(
      doc(info_with_area(""), "Update", "  <references>test@vigil.example,T-0</references>\n"),
      "alert/references", "sender,identifier,sent");
  expect_error(doc(info_with_area(""), "Update", "  <references>a,b,yesterday</references>\n"),
               "alert/references", "not a CAP date-time");
}

TEST(CapRules, IdentifierCharacters) {
  std::string x = doc(info_with_area(""));
  x.replace(x.find("T-1"), 3, "T 1");
  expect_error(x, "alert/identifier", "space, comma");
}

TEST(CapRules, ExpiresBeforeOnset) {
  std::string info = info_with_area("");
  info.replace(info.find("    <area>"), 0,
               "    <onset>2024-05-01T20:00:00+02:00</onset>\n    "
               "<expires>2024-05-01T19:00:00+02:00</expires>\n");
  expect_error(doc(info), "alert/info[0]/expires", "before onset");
}

TEST(CapRules, PrivateScopeNeedsAddresses) {
  std::string x = doc(info_with_area(""));
  x.replace(x.find("<scope>Public"), 13, "<scope>Private");
  expect_error(x, "alert/addresses", "scope Private");
}

TEST(CapRules, ErrorsAreCappedAndSummarised) {
  std::string area;
  for (int i = 0; i < 80; ++i) area += "      <polygon>1,1 1,2 2,2 2,1</polygon>\n";
  auto r = parse_cap(doc(info_with_area(area)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().size(), 51u);
  EXPECT_NE(r.error().back().message.find("30 more errors"), std::string::npos);
}

// ---- Times ----------------------------------------------------------------------------------

TEST(CapTime, NumericOffsetIsHonoured) {
  EXPECT_EQ(*parse_cap_time("1970-01-01T00:00:00-00:00"), 0);
  EXPECT_EQ(*parse_cap_time("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(*parse_cap_time("2003-06-17T14:57:00-07:00"),
            *parse_cap_time("2003-06-17T21:57:00+00:00"));
  int off = 0;
  EXPECT_EQ(*parse_cap_time("2024-02-29T23:30:00+05:30", false, &off), 1709229600000);
  EXPECT_EQ(off, 330);
}

TEST(CapTime, RejectsWhatCap12Forbids) {
  EXPECT_FALSE(parse_cap_time("2024-05-01T20:15:00Z"));
  EXPECT_FALSE(parse_cap_time("2024-05-01T20:15:00.5+00:00"));
  EXPECT_FALSE(parse_cap_time("2023-02-29T20:15:00+00:00"));
  EXPECT_FALSE(parse_cap_time("2024-13-01T20:15:00+00:00"));
  EXPECT_FALSE(parse_cap_time("2024-05-01T24:00:00+00:00"));
  EXPECT_FALSE(parse_cap_time("2024-05-01T20:15:00+15:00"));
  EXPECT_FALSE(parse_cap_time("2024-05-01 20:15:00+00:00"));
  EXPECT_FALSE(parse_cap_time("2024-05-01T20:15:00+00:00x"));
  EXPECT_NE(parse_cap_time("2024-05-01T20:15:00Z").error().message.find("-00:00"),
            std::string::npos);
}

TEST(CapTime, Cap11AllowsZuluAndFractions) {
  EXPECT_EQ(*parse_cap_time("1970-01-01T00:00:01.25Z", true), 1250);
}

TEST(CapTime, FormatWritesUtcAsMinusZero) {
  EXPECT_EQ(format_cap_time(0), "1970-01-01T00:00:00-00:00");
  EXPECT_EQ(format_cap_time(*parse_cap_time("2024-05-01T20:15:00+03:00"), 180),
            "2024-05-01T20:15:00+03:00");
  EXPECT_EQ(format_cap_time(*parse_cap_time("2024-05-01T01:15:00+00:00"), -300),
            "2024-04-30T20:15:00-05:00");
  EXPECT_EQ(format_cap_time(-1000), "1969-12-31T23:59:59-00:00");
}

TEST(CapParse, LibxmlErrorsAreCapturedNotPrinted) {
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  (void)parse_cap(
      "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>&bad;</identifier>");
  (void)parse_cap(doc(info_with_area("")).replace(0, 5, "<?xmm"));
  std::string x = doc(info_with_area(""));
  x.replace(x.find("<status>Actual"), 14, "<status>Nope!!");
  (void)parse_cap(x);
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(CapParse, ThreadSafeSharedSchema) {
  const std::string good = read(data_dir() / "oasis-cap12-a4-amber-alert.xml");
  std::string bad = good;
  bad.replace(bad.find("<urgency>Immediate"), 18, "<urgency>Soon");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!parse_cap(good)) ++failures;
        auto r = parse_cap(bad);
        if (r || r.error().empty() ||
            r.error()[0].where.find("alert/info[0]/urgency") == std::string::npos)
          ++failures;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace vigil::warn
