// SPDX-License-Identifier: Apache-2.0
// Advisories: valid CAP 1.2 through our own parser (schema included), hostile text preserved.
#include "warn/advisory.hpp"

#include <gtest/gtest.h>

#include "warn/cap.hpp"

namespace vigil::warn {
namespace {

std::string errors_of(const Expected<CapAlert, CapErrors>& r) {
  std::string s;
  if (!r)
    for (const auto& e : r.error()) s += e.to_string() + "\n";
  return s;
}

AdvisoryInput base() {
  AdvisoryInput in;
  in.sender = "vigil@hall.example";
  in.identifier = "adv-g-concert-1";
  in.sent_ms = *parse_cap_time("2024-05-01T15:00:00+03:00");
  in.utc_offset_minutes = 180;
  in.event = "Security advisory";
  in.urgency = Urgency::Expected;
  in.severity = Severity::Moderate;
  in.certainty = Certainty::Possible;
  in.onset_ms = *parse_cap_time("2024-05-01T19:00:00+03:00");
  in.expires_ms = *parse_cap_time("2024-05-01T22:00:00+03:00");
  in.headline = "Extra screening at the Grand Concert Hall";
  in.description = "Allow 30 minutes more for entry.";
  in.instruction = "Arrive early; bring no large bags.";
  in.area_desc = "Grand Concert Hall";
  in.lat = 55.7601;
  in.lon = 37.6186;
  in.radius_km = 0.3;
  return in;
}

TEST(Advisory, ValidCap12WithTheGatheringCircle) {
  const std::string xml = advisory_cap(base());
  auto r = parse_cap(xml);
  ASSERT_TRUE(r) << errors_of(r) << xml;
  EXPECT_EQ(r->version, "1.2");
  EXPECT_EQ(r->status, Status::Actual);
  EXPECT_EQ(r->msg_type, MsgType::Alert);
  EXPECT_EQ(r->scope, Scope::Public);
  EXPECT_EQ(r->sent, "2024-05-01T15:00:00+03:00");
  EXPECT_EQ(r->sent_ms, base().sent_ms);
  ASSERT_EQ(r->infos.size(), 1u);
  EXPECT_EQ(r->infos[0].categories, std::vector<Category>{Category::Safety});
  EXPECT_EQ(r->infos[0].certainty, Certainty::Possible);
  EXPECT_EQ(r->infos[0].expires_ms, base().expires_ms);
  ASSERT_EQ(r->infos[0].areas.size(), 1u);
  ASSERT_EQ(r->infos[0].areas[0].circles.size(), 1u);
  EXPECT_NEAR(r->infos[0].areas[0].circles[0].center.lat, 55.7601, 1e-6);
  EXPECT_NEAR(r->infos[0].areas[0].circles[0].radius_km, 0.3, 1e-9);
}

TEST(Advisory, UtcIsWrittenAsMinusZero) {
  AdvisoryInput in = base();
  in.utc_offset_minutes = 0;
  const std::string xml = advisory_cap(in);
  EXPECT_NE(xml.find("<sent>2024-05-01T12:00:00-00:00</sent>"), std::string::npos) << xml;
  EXPECT_TRUE(parse_cap(xml));
}

TEST(Advisory, HostileTextIsEscapedAndPreserved) {
  AdvisoryInput in = base();
  in.headline = "<script>alert('x')</script> & \"quotes\" ]]> <!-- -->";
  in.description = "Угроза: «Концерт» отменён & <b>не</b> приходите; ёлки\nline 2\r\nline 3";
  in.instruction =
      "&amp; &lt; &#x26; &xxe; <!DOCTYPE x [<!ENTITY y SYSTEM \"file:///etc/passwd\">]>";
  in.area_desc = "Зал </areaDesc><polygon>0,0 0,1 1,1 0,0</polygon><areaDesc>";
  in.contact = "ctl\x01\x02\x1f del\x7f bad\xff\xfe utf8 \xc3(";
  in.event = "Event </event><urgency>Past</urgency>";
  in.sender = "evil sender,<x>&y";
  in.identifier = "id with spaces, commas";
  in.language = "en-US\"><x";
  in.web = "javascript:alert(1)";
  in.parameters.push_back({"k<", "v&"});
  const std::string xml = advisory_cap(in);
  auto r = parse_cap(xml);
  ASSERT_TRUE(r) << errors_of(r) << xml;
  const CapInfo& info = r->infos[0];
  EXPECT_EQ(info.headline, in.headline);
  EXPECT_EQ(info.description,
            "Угроза: «Концерт» отменён & <b>не</b> приходите; ёлки\nline 2\r\nline 3");
  EXPECT_EQ(info.instruction, in.instruction);
  EXPECT_EQ(info.areas[0].area_desc, in.area_desc);
  EXPECT_TRUE(info.areas[0].polygons.empty());
  EXPECT_EQ(info.event, in.event);
  EXPECT_EQ(info.urgency, Urgency::Expected);
  EXPECT_EQ(info.language, "en-US");  // invalid tag replaced
  EXPECT_TRUE(info.web.empty());      // not an http(s) URL
  EXPECT_EQ(info.parameters[0].name, "k<");
  EXPECT_EQ(info.parameters[0].value, "v&");
  EXPECT_EQ(r->sender, "evil_sender__x>_y");
  EXPECT_EQ(r->identifier, "id_with_spaces__commas");
  EXPECT_EQ(info.contact.find('\x01'), std::string::npos);
  EXPECT_NE(info.contact.find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(xml.find("passwd\">]>"), std::string::npos);  // the DOCTYPE text is escaped
}

TEST(Advisory, EmptyFieldsStillValid) {
  AdvisoryInput in;
  in.lat = -33.8568;
  in.lon = 151.2153;
  in.sent_ms = 0;
  const std::string xml = advisory_cap(in);
  auto r = parse_cap(xml);
  ASSERT_TRUE(r) << errors_of(r) << xml;
  EXPECT_EQ(r->identifier, "vigil-advisory");
  EXPECT_EQ(r->sender, "vigil");
}

TEST(Advisory, PreconditionsAreChecked) {
  AdvisoryInput in = base();
  in.lat = 95;
  EXPECT_THROW((void)advisory_cap(in), std::invalid_argument);
  in = base();
  in.radius_km = -1;
  EXPECT_THROW((void)advisory_cap(in), std::invalid_argument);
  in = base();
  in.expires_ms = *in.onset_ms - 1;
  EXPECT_THROW((void)advisory_cap(in), std::invalid_argument);
}

TEST(Advisory, XmlEscape) {
  EXPECT_EQ(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
  EXPECT_EQ(xml_escape("ok \xd0\x96"), "ok \xd0\x96");
  EXPECT_EQ(xml_escape(std::string("\x00", 1)), "\xEF\xBF\xBD");
  EXPECT_EQ(xml_escape("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
}

}  // namespace
}  // namespace vigil::warn
