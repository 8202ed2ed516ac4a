// SPDX-License-Identifier: Apache-2.0
// `vigil demo` in-process: the crowd's virtual sensors reach the server over HTTP, the sample
// warning is matched to tonight's gathering, and an evacuation incident empties the hall.
#include "api/demo.hpp"
#include "api_fixture.hpp"

namespace vigil::api::testing {
namespace {

using nlohmann::json;

TEST(DemoTest, CrowdTelemetryWarningAndEvacuation) {
  DemoOptions o;
  o.listen = "127.0.0.1:0";
  o.data_dir = fresh_dir("demo");
  o.speed = 10;
  o.warning_after_s = 1;
  o.evacuate_after_s = 6;
  o.quiet = true;
  auto demo = Demo::start(o);
  ASSERT_TRUE(demo) << demo.error().to_string();
  const auto& info = (*demo)->info();
  const auto port = static_cast<std::uint16_t>(std::stoi(info.url.substr(info.url.rfind(':') + 1)));
  auto get = [&](const std::string& target) {
    Connection c(port);
    auto r = c.request("GET", target, "", "Authorization: Bearer " + info.operator_token + "\r\n");
    EXPECT_TRUE(r);
    return r ? json::parse(r->body, nullptr, false) : json();
  };
  double peak = 0;
  bool warned = false;
  bool evacuating = false;
  for (int i = 0; i < 300 && !(warned && evacuating); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const json s = get("/api/v1/venues/riverside-hall/state");
    if (!s.is_object()) continue;
    peak = std::max(peak, s.value("occupancy", 0.0));
    evacuating = s.value("evacuation", false);
    warned = get("/api/v1/warnings")["warnings"].size() == 1;
  }
  EXPECT_GT(peak, 20) << "the crowd's arrivals never showed up in the occupancy";
  EXPECT_TRUE(warned) << "the sample warning did not reach the operator";
  EXPECT_TRUE(evacuating);
  const json warnings = get("/api/v1/warnings");
  ASSERT_EQ(warnings["warnings"].size(), 1u);
  EXPECT_EQ(warnings["warnings"][0]["matches"][0]["gathering"], "tonight");
  (*demo)->stop();
  std::filesystem::remove_all(o.data_dir);
}

}  // namespace
}  // namespace vigil::api::testing
