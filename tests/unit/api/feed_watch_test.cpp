// SPDX-License-Identifier: Apache-2.0
// Issue 6 end to end against a real server: the CAP feed watch (a local HTTP server serving an
// Atom feed and the CAP documents of tests/data/cap), no duplicates when the feed repeats or the
// server restarts, the drop directory (processed/ and failed/ with the reason), the geocode
// table from the config, peaks on the gathering timeline, and the webhook witness of the audit
// log's checkpoints.
#include <atomic>
#include <mutex>

#include "api/config.hpp"
#include "api_fixture.hpp"
#include "server/http.hpp"
#include "store/audit.hpp"

namespace vigil::api::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string cap_file(const char* name) {
  return read_text(fs::path(VIGIL_SOURCE_DIR) / "tests" / "data" / "cap" / name);
}

// CAP wants a numeric offset and no fraction.
std::string cap_time(ops::TimeMs t_ms) {
  return ops::format_time(t_ms / 1000 * 1000).substr(0, 19) + "-00:00";
}

// A CAP alert whose only area is a geocode, for the next hours.
std::string geocode_cap(const std::string& identifier, const std::string& geocode_value) {
  const ops::TimeMs now = ops::SystemClock().now_ms();
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>)" + identifier + R"(</identifier>
  <sender>civil-defence@region.example</sender>
  <sent>)" + cap_time(now) + R"(</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <category>Safety</category>
    <event>Mass gatherings restricted</event>
    <urgency>Expected</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <onset>)" + cap_time(now) + R"(</onset>
    <expires>)" + cap_time(now + 6 * 3'600'000LL) + R"(</expires>
    <headline>Avoid mass gatherings in the district</headline>
    <area>
      <areaDesc>Krasnogorsk district</areaDesc>
      <geocode><valueName>OKTMO</valueName><value>)" + geocode_value + R"(</value></geocode>
    </area>
  </info>
</alert>
)";
}

// A small HTTP server standing in for an issuer (feed + CAP documents) or a witness.
class Receiver {
 public:
  Receiver() {
    server::Router router;
    router.add_sync("GET", "/feed.atom", [this](const server::Request&, const server::PathParams&) {
      ++feed_gets;
      std::lock_guard lock(mu);
      return server::Response::text(200, feed, "application/atom+xml");
    });
    router.add_sync("GET", "/cap/{name}", [this](const server::Request&, const server::PathParams& p) {
      const std::string name(p.at("name"));
      std::lock_guard lock(mu);
      ++cap_gets[name];
      auto it = docs.find(name);
      if (it == docs.end()) return server::Response::error(404, "no such document");
      return server::Response::text(200, it->second, "application/cap+xml");
    });
    router.add_sync("POST", "/witness", [this](const server::Request& r, const server::PathParams&) {
      std::lock_guard lock(mu);
      witnessed.push_back(r.body);
      return server::Response::json(200, "{}");
    });
    server::ServerOptions so;
    so.port = 0;
    so.log = [](server::LogLevel, std::string_view) {};
    http = std::make_unique<server::HttpServer>(so, std::move(router));
    EXPECT_TRUE(http->start());
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(http->port()) + path;
  }
  int gets(const std::string& name) {
    std::lock_guard lock(mu);
    return cap_gets[name];
  }

  std::mutex mu;
  std::string feed;                          // GUARDED_BY(mu)
  std::map<std::string, std::string> docs;   // GUARDED_BY(mu)
  std::map<std::string, int> cap_gets;       // GUARDED_BY(mu)
  std::vector<std::string> witnessed;        // GUARDED_BY(mu)
  std::atomic<int> feed_gets{0};
  std::unique_ptr<server::HttpServer> http;
};

class FeedWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir("feeds");
    config_.data_dir = dir_ / "data";
    config_.listen = "127.0.0.1:0";
    config_.log_level = "error";
    config_.web_root = dir_;
    config_.agent_egress = false;
  }
  void TearDown() override {
    app_.reset();
    fs::remove_all(dir_);
  }

  void start() {
    auto app = ServerApp::start(config_);
    ASSERT_TRUE(app) << app.error().to_string();
    app_ = std::move(*app);
    if (admin_.empty()) {
      auto t = make_token(Role::admin, std::nullopt, "admin", store::now_ms());
      ASSERT_TRUE(t);
      ASSERT_TRUE(app_->store().put_token(t->record));
      admin_ = t->secret;
      ASSERT_EQ(call("PUT", "/api/v1/venues/riverside-hall", read_text(example("concert-hall.geojson"))).status, 201);
    }
  }
  void restart() {
    app_.reset();
    start();
  }

  HttpResponse call(const std::string& method, const std::string& target, const std::string& body = {},
                    const std::string& extra = {}) {
    Connection c(app_->port());
    auto r = c.request(method, target, body, extra + "Authorization: Bearer " + admin_ + "\r\n");
    EXPECT_TRUE(r.has_value()) << method << " " << target << ": no answer";
    return r.value_or(HttpResponse{});
  }
  json warnings() { return json::parse(call("GET", "/api/v1/warnings").body)["warnings"]; }
  std::string metrics() { return call("GET", "/metrics").body; }

  // Waits up to `seconds` for `ok`.
  template <class F>
  bool eventually(F ok, int seconds = 10) {
    for (int i = 0; i < seconds * 50; ++i) {
      if (ok()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ok();
  }

  void add_gathering(const std::string& id, ops::TimeMs starts, ops::TimeMs ends) {
    const json g = {{"id", id}, {"venue", kHall}, {"name", "Evening concert"},
                    {"starts_at", ops::format_time(starts)}, {"ends_at", ops::format_time(ends)},
                    {"expected_attendance", 6000}, {"kind", "concert"}};
    ASSERT_EQ(call("POST", "/api/v1/gatherings", g.dump()).status, 201);
  }

  fs::path dir_;
  ServeConfig config_;
  std::unique_ptr<ServerApp> app_;
  std::string admin_;
};

TEST_F(FeedWatchTest, FeedEntriesArePostedOnceEvenAcrossRestarts) {
  Receiver issuer;
  {
    std::lock_guard lock(issuer.mu);
    issuer.docs["thunderstorm.xml"] = cap_file("oasis-cap12-a2-thunderstorm.xml");
    issuer.docs["amber.xml"] = cap_file("oasis-cap12-a4-amber-alert.xml");
    issuer.docs["broken.xml"] = "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>x</identifier></alert>";
    std::string inline_cap = cap_file("imo-iceland-wind-warning.xml");
    inline_cap.erase(0, inline_cap.find("?>") + 2);
    issuer.feed = R"(<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Local issuer</title>
  <entry><id>e-1</id><updated>2026-11-26T01:00:00Z</updated><link rel="alternate" href="/cap/thunderstorm.xml"/></entry>
  <entry><id>e-2</id><updated>2026-11-26T01:00:00Z</updated>
    <link rel="alternate" type="text/html" href="https://issuer.example/page"/>
    <link rel="related" type="application/cap+xml" href="cap/amber.xml"/></entry>
  <entry><id>e-3</id><updated>2026-11-26T01:00:00Z</updated><content type="application/cap+xml">)" +
                   inline_cap + R"(</content></entry>
  <entry><id>e-4</id><updated>2026-11-26T01:00:00Z</updated><link href="/cap/missing.xml"/></entry>
  <entry><id>e-5</id><updated>2026-11-26T01:00:00Z</updated><link href="/cap/broken.xml"/></entry>
  <entry><id>e-6</id><updated>2026-11-26T01:00:00Z</updated><link href="/cap/thunderstorm.xml?again"/></entry>
</feed>
)";
  }
  config_.feeds.feeds.push_back({"local", issuer.url("/feed.atom"), std::chrono::seconds(1)});
  start();

  ASSERT_TRUE(eventually([&] { return warnings().size() == 3; })) << warnings().dump();
  for (const json& w : warnings()) EXPECT_EQ(w.value("received_by", ""), "feed:local") << w.dump();
  // The feed is read again (it repeats every entry): nothing new, the documents are not fetched
  // again; the missing one is tried again at every poll.
  const int polls = issuer.feed_gets.load();
  ASSERT_TRUE(eventually([&] { return issuer.feed_gets.load() >= polls + 2; }));
  EXPECT_EQ(warnings().size(), 3u);
  EXPECT_EQ(issuer.gets("thunderstorm.xml"), 2);  // e-1, and e-6 (another entry, same document)
  EXPECT_EQ(issuer.gets("amber.xml"), 1);
  EXPECT_EQ(issuer.gets("broken.xml"), 1);
  EXPECT_GE(issuer.gets("missing.xml"), 2);
  const std::string m = metrics();
  EXPECT_NE(m.find(R"(vigil_feed_fetch_total{feed="local",result="ok"})"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(vigil_feed_documents_total{source="local",result="posted"} 3)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(vigil_feed_documents_total{source="local",result="duplicate"} 1)"), std::string::npos) << m;
  EXPECT_NE(m.find(R"(vigil_feed_documents_total{source="local",result="invalid"} 1)"), std::string::npos) << m;

  // A restart remembers what was seen: the feed is read, no document fetched again.
  restart();
  const int after_restart = issuer.feed_gets.load();
  ASSERT_TRUE(eventually([&] { return issuer.feed_gets.load() >= after_restart + 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the poll finishes its entries
  EXPECT_EQ(issuer.gets("thunderstorm.xml"), 2);
  EXPECT_EQ(issuer.gets("amber.xml"), 1);
  EXPECT_EQ(issuer.gets("broken.xml"), 1);
  EXPECT_EQ(warnings().size(), 3u);

  // A bad feed is counted and logged, the watcher carries on.
  {
    std::lock_guard lock(issuer.mu);
    issuer.feed = "<!DOCTYPE feed [<!ENTITY x \"y\">]><feed xmlns=\"http://www.w3.org/2005/Atom\"/>";
  }
  ASSERT_TRUE(eventually([&] {
    return metrics().find(R"(vigil_feed_fetch_total{feed="local",result="invalid"})") != std::string::npos;
  }));
}

TEST_F(FeedWatchTest, DropDirectoryPostsAndSortsFiles) {
  const fs::path drop = dir_ / "drop";
  config_.feeds.drop_dir = drop;
  config_.feeds.drop_interval = std::chrono::milliseconds(50);
  start();
  ASSERT_TRUE(fs::is_directory(drop / "processed"));
  ASSERT_TRUE(fs::is_directory(drop / "failed"));
  auto drop_file = [&](const std::string& name, const std::string& text) {
    // Written elsewhere, then renamed in: the watcher never sees half a file.
    const fs::path tmp = dir_ / (name + ".tmp");
    std::ofstream(tmp, std::ios::binary) << text;
    fs::rename(tmp, drop / name);
  };
  drop_file("quake.xml", cap_file("oasis-cap12-a3-earthquake-update.xml"));
  drop_file("notes.txt", "not a CAP document");
  ASSERT_TRUE(eventually([&] { return fs::exists(drop / "processed" / "quake.xml"); }));
  EXPECT_FALSE(fs::exists(drop / "quake.xml"));
  EXPECT_TRUE(fs::exists(drop / "notes.txt"));  // only *.xml are taken
  ASSERT_EQ(warnings().size(), 1u);
  EXPECT_EQ(warnings()[0].value("received_by", ""), "drop");

  // The same document dropped twice: processed, no second warning; the name is kept free.
  drop_file("quake.xml", cap_file("oasis-cap12-a3-earthquake-update.xml"));
  ASSERT_TRUE(eventually([&] { return fs::exists(drop / "processed" / "quake.1.xml"); }));
  EXPECT_EQ(warnings().size(), 1u);

  // An invalid one goes to failed/ with the reason next to it.
  std::string bad = cap_file("oasis-cap12-a2-thunderstorm.xml");
  bad.replace(bad.find("<status>Actual</status>"), 23, "<status>Actuel</status>");
  drop_file("bad.xml", bad);
  drop_file("evil.xml", "<?xml version=\"1.0\"?>\n<!DOCTYPE alert [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<alert>&x;</alert>");
  ASSERT_TRUE(eventually([&] { return fs::exists(drop / "failed" / "evil.xml.error.txt"); }));
  ASSERT_TRUE(eventually([&] { return fs::exists(drop / "failed" / "bad.xml.error.txt"); }));
  EXPECT_TRUE(fs::exists(drop / "failed" / "bad.xml"));
  const std::string why = read_text(drop / "failed" / "bad.xml.error.txt");
  EXPECT_NE(why.find("alert/status"), std::string::npos) << why;
  EXPECT_NE(why.find("line "), std::string::npos) << why;
  const std::string evil = read_text(drop / "failed" / "evil.xml.error.txt");
  EXPECT_NE(evil.find("DOCTYPE"), std::string::npos) << evil;
  EXPECT_EQ(evil.find("root:"), std::string::npos);
  EXPECT_EQ(warnings().size(), 1u);
  const std::string m = metrics();
  EXPECT_NE(m.find(R"(vigil_feed_documents_total{source="drop",result="invalid"} 2)"), std::string::npos) << m;
}

TEST_F(FeedWatchTest, GeocodeTableFromTheConfigMatchesGeocodeOnlyWarnings) {
  // A district around the hall (55.8233, 37.3869) under OKTMO 46623000.
  const fs::path table = dir_ / "geocodes.json";
  fs::create_directories(dir_);
  std::ofstream(table) << R"({"geocodes": [
  {"valueName": "OKTMO", "value": "46623000", "name": "Krasnogorsk",
   "polygon": [[55.90, 37.20], [55.75, 37.20], [55.75, 37.50], [55.90, 37.50], [55.90, 37.20]]}
]})";
  const fs::path config_file = dir_ / "vigil.toml";
  std::ofstream(config_file) << "[warnings]\ngeocode_table = \"" << table.string() << "\"\n";
  ASSERT_TRUE(load_config_file(config_file, config_));
  EXPECT_EQ(config_.geocode_table, table);
  start();
  const ops::TimeMs now = ops::SystemClock().now_ms();
  add_gathering("g-tonight", now + 3'600'000LL, now + 4 * 3'600'000LL);
  auto r = call("POST", "/api/v1/warnings", geocode_cap("geo-1", "46623000"),
                "Content-Type: application/cap+xml\r\n");
  ASSERT_EQ(r.status, 201) << r.body;
  const json w = json::parse(r.body);
  ASSERT_EQ(w["matches"].size(), 1u) << r.body;
  EXPECT_EQ(w["matches"][0]["gathering"], "g-tonight");
  EXPECT_EQ(w["matches"][0]["match"]["place_via"], "geocode OKTMO=46623000") << w["matches"][0].dump();
  // A geocode the table does not know matches nothing.
  r = call("POST", "/api/v1/warnings", geocode_cap("geo-2", "99999999"), "Content-Type: application/cap+xml\r\n");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["matches"].size(), 0u);
}

TEST_F(FeedWatchTest, BadGeocodeTableStopsTheStartWithFileAndLine) {
  fs::create_directories(dir_);
  const fs::path table = dir_ / "geocodes.json";
  std::ofstream(table) << "{\"geocodes\": [\n"
                          "  {\"valueName\": \"SAME\", \"value\": \"1\", \"circle\": {\"lat\": 1, \"lon\": 2, \"radius_km\": 3}},\n"
                          "  {\"valueName\": \"SAME\", \"value\": \"2\",\n"
                          "   \"polygon\": [[55.9, 37.2], [55.7, 37.2], [55.7, 37.5], [55.9, 37.5]]}\n"
                          "]}\n";
  config_.geocode_table = table;
  auto app = ServerApp::start(config_);
  ASSERT_FALSE(app);
  const std::string e = app.error().to_string();
  EXPECT_NE(e.find(table.string() + ":3: geocodes[1]"), std::string::npos) << e;

  std::ofstream(table, std::ios::trunc) << "{\"geocodes\": [\n  {\"valueName\": \"SAME\",,}\n]}\n";
  app = ServerApp::start(config_);
  ASSERT_FALSE(app);
  EXPECT_NE(app.error().to_string().find(table.string() + ":2: not valid JSON"), std::string::npos)
      << app.error().to_string();
}

TEST_F(FeedWatchTest, TimelineShowsPeaksAndTheyOutliveARestart) {
  start();
  const ops::TimeMs now = ops::SystemClock().now_ms();
  add_gathering("g-now", now - 3'600'000LL, now + 3'600'000LL);
  auto telemetry = [&](int seq, int count) {
    const json body = {{"readings", {{{"sensor", "zc-floor"}, {"seq", seq}, {"ts", now_text()}, {"count", count}}}}};
    ASSERT_EQ(call("POST", "/api/v1/venues/riverside-hall/telemetry", body.dump()).status, 200);
  };
  telemetry(1, 800);
  json peaks;
  ASSERT_TRUE(eventually([&] {
    peaks = json::parse(call("GET", "/api/v1/gatherings/g-now/timeline").body)["peaks"];
    return peaks["occupancy"].is_object() && peaks["occupancy"].value("persons", 0.0) > 500;
  })) << peaks.dump();
  telemetry(2, 300);  // lower: the peak stays
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  peaks = json::parse(call("GET", "/api/v1/gatherings/g-now/timeline").body)["peaks"];
  EXPECT_GT(peaks["occupancy"]["persons"].get<double>(), 500);
  EXPECT_FALSE(peaks["occupancy"].value("at", "").empty());
  ASSERT_FALSE(peaks["zones"].empty()) << peaks.dump();
  json floor;
  for (const json& z : peaks["zones"]) {
    if (z["zone"] == "floor") floor = z;
  }
  ASSERT_TRUE(floor.is_object()) << peaks.dump();
  EXPECT_GT(floor["density_p_m2"].get<double>(), 0);
  EXPECT_GT(floor["persons"].get<double>(), 500);
  EXPECT_FALSE(floor.value("at", "").empty());

  const std::string html = call("GET", "/api/v1/gatherings/g-now/timeline?format=html").body;
  EXPECT_NE(html.find("Peaks during the gathering"), std::string::npos);
  EXPECT_NE(html.find("zone floor"), std::string::npos);

  restart();
  const json again = json::parse(call("GET", "/api/v1/gatherings/g-now/timeline").body)["peaks"];
  EXPECT_GT(again["occupancy"]["persons"].get<double>(), 500) << again.dump();
}

TEST_F(FeedWatchTest, WebhookWitnessReceivesSignedCheckpoints) {
  Receiver witness;
  config_.witness_url = witness.url("/witness");
  config_.checkpoint_every = 3;
  start();
  // Audit entries: the venue, two gatherings; a checkpoint every 3, polled every 5 s.
  add_gathering("g-1", store::now_ms() + 86'400'000LL, store::now_ms() + 90'000'000LL);
  add_gathering("g-2", store::now_ms() + 86'400'000LL, store::now_ms() + 90'000'000LL);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(witness.mu);
    return !witness.witnessed.empty();
  }, 20));
  store::AuditCheckpoint first;
  {
    std::lock_guard lock(witness.mu);
    auto c = store::parse_witness_line(witness.witnessed.front());
    ASSERT_TRUE(c) << witness.witnessed.front();
    first = *c;
  }
  // The witnessed hash is the log's at that entry, signed by the store's key.
  store::AuditQuery q;
  q.after_seq = first.seq - 1;
  q.limit = 1;
  auto entries = app_->store().list_audit(q);
  ASSERT_TRUE(entries && entries->size() == 1);
  EXPECT_EQ((*entries)[0].hash, first.hash);
  EXPECT_EQ(first.public_key, app_->store().audit_public_key());

  // At shutdown the head of the log is witnessed.
  add_gathering("g-later", store::now_ms() + 86'400'000LL, store::now_ms() + 90'000'000LL);
  auto head = app_->store().list_audit({});
  ASSERT_TRUE(head && !head->empty());
  const std::int64_t head_seq = head->back().seq;
  app_.reset();
  std::lock_guard lock(witness.mu);
  auto last = store::parse_witness_line(witness.witnessed.back());
  ASSERT_TRUE(last);
  EXPECT_GE(last->seq, head_seq);
  // Every witnessed checkpoint is a valid witness-file line: a witness file made of them lets
  // `audit verify` detect a log cut short.
  for (const std::string& body : witness.witnessed) EXPECT_TRUE(store::parse_witness_line(body)) << body;
}

TEST(FeedConfigTest, FeedsWitnessAndGeocodesAreReadWithTheirErrors) {
  const fs::path file = fresh_dir("config").string() + ".toml";
  std::ofstream(file) << R"([audit]
witness_url = "https://witness.example.org/vigil"
[warnings]
geocode_table = "/etc/vigil/geocodes.json"
[feeds]
drop_dir = "/var/lib/vigil/cap-drop"
drop_interval_s = 2
[feeds.nws]
url = "https://api.weather.gov/alerts/active.atom?area=MN"
interval_s = 120
[feeds.meteoalarm]
url = "https://feeds.meteoalarm.org/feeds/meteoalarm-legacy-atom-austria"
)";
  ServeConfig c;
  auto ok = load_config_file(file, c);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(c.witness_url, "https://witness.example.org/vigil");
  EXPECT_EQ(c.geocode_table, "/etc/vigil/geocodes.json");
  EXPECT_EQ(c.feeds.drop_dir, "/var/lib/vigil/cap-drop");
  EXPECT_EQ(c.feeds.drop_interval, std::chrono::seconds(2));
  ASSERT_EQ(c.feeds.feeds.size(), 2u);
  std::map<std::string, FeedSource> by_name;
  for (const auto& f : c.feeds.feeds) by_name[f.name] = f;
  EXPECT_EQ(by_name["nws"].interval, std::chrono::seconds(120));
  EXPECT_EQ(by_name["meteoalarm"].interval, std::chrono::seconds(60));  // the default

  std::ofstream(file, std::ios::trunc) << "[feeds.nws]\nurl = \"https://x.example/a\"\nintervl_s = 5\n"
                                          "[audit]\nwitness_url = \"ftp://x\"\n";
  ServeConfig bad;
  auto err = load_config_file(file, bad);
  ASSERT_FALSE(err);
  EXPECT_NE(err.error().message.find("feeds.nws.intervl_s: unknown option"), std::string::npos)
      << err.error().to_string();
  EXPECT_NE(err.error().message.find("audit.witness_url"), std::string::npos) << err.error().to_string();

  std::ofstream(file, std::ios::trunc) << "[feeds.nws]\ninterval_s = 5\n";
  ServeConfig no_url;
  err = load_config_file(file, no_url);
  ASSERT_FALSE(err);
  EXPECT_NE(err.error().message.find("feeds.nws.url: is required"), std::string::npos) << err.error().to_string();
  fs::remove(file);
}

}  // namespace
}  // namespace vigil::api::testing
