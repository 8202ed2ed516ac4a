// SPDX-License-Identifier: Apache-2.0
// The Prometheus registry and its text exposition format 0.0.4.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "server/metrics.hpp"

namespace vigil::server {
namespace {

TEST(Metrics, RendersCountersAndGaugesWithLabels) {
  MetricsRegistry reg;
  auto& requests = reg.counter("vigil_test_requests_total", "Requests.", {"method", "status"});
  requests.with({"GET", "200"}).inc();
  requests.with({"GET", "200"}).inc(2);
  requests.with({"POST", "413"}).inc();
  reg.gauge("vigil_test_open", "Open things.").get().set(3.5);
  reg.gauge("vigil_test_weird", "Help with \\ and\nnewline.", {"v"})
      .with({"a\"b\\c\nd"})
      .set(-1);
  EXPECT_EQ(reg.render(),
            "# HELP vigil_test_open Open things.\n"
            "# TYPE vigil_test_open gauge\n"
            "vigil_test_open 3.5\n"
            "# HELP vigil_test_requests_total Requests.\n"
            "# TYPE vigil_test_requests_total counter\n"
            "vigil_test_requests_total{method=\"GET\",status=\"200\"} 3\n"
            "vigil_test_requests_total{method=\"POST\",status=\"413\"} 1\n"
            "# HELP vigil_test_weird Help with \\\\ and\\nnewline.\n"
            "# TYPE vigil_test_weird gauge\n"
            "vigil_test_weird{v=\"a\\\"b\\\\c\\nd\"} -1\n");
}

TEST(Metrics, RendersHistogramsWithCumulativeBuckets) {
  MetricsRegistry reg;
  auto& h = reg.histogram("vigil_test_latency_seconds", "Latency.", {0.25, 0.5, 1}, {"route"});
  auto& series = h.with({"/a/{id}"});
  series.observe(0.125);
  series.observe(0.25);  // a bucket's bound is inclusive
  series.observe(0.5);
  series.observe(8);
  EXPECT_EQ(reg.render(),
            "# HELP vigil_test_latency_seconds Latency.\n"
            "# TYPE vigil_test_latency_seconds histogram\n"
            "vigil_test_latency_seconds_bucket{route=\"/a/{id}\",le=\"0.25\"} 2\n"
            "vigil_test_latency_seconds_bucket{route=\"/a/{id}\",le=\"0.5\"} 3\n"
            "vigil_test_latency_seconds_bucket{route=\"/a/{id}\",le=\"1\"} 3\n"
            "vigil_test_latency_seconds_bucket{route=\"/a/{id}\",le=\"+Inf\"} 4\n"
            "vigil_test_latency_seconds_sum{route=\"/a/{id}\"} 8.875\n"
            "vigil_test_latency_seconds_count{route=\"/a/{id}\"} 4\n");
}

TEST(Metrics, RegisteringTwiceReturnsTheSameFamilyOrThrows) {
  MetricsRegistry reg;
  auto& a = reg.counter("vigil_x_total", "X.", {"a"});
  EXPECT_EQ(&a, &reg.counter("vigil_x_total", "X.", {"a"}));
  EXPECT_THROW(reg.counter("vigil_x_total", "X.", {"b"}), std::invalid_argument);
  EXPECT_THROW(reg.gauge("vigil_x_total", "X.", {"a"}), std::invalid_argument);
  EXPECT_THROW(reg.counter("1bad", "X."), std::invalid_argument);
  EXPECT_THROW(reg.counter("vigil_y_total", "Y.", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(reg.histogram("vigil_h", "H.", {1, 1}), std::invalid_argument);
  EXPECT_THROW(reg.histogram("vigil_h", "H.", {1}, {"le"}), std::invalid_argument);
  EXPECT_THROW(a.with({"1", "2"}), std::invalid_argument);
}

TEST(Metrics, CountsFromManyThreads) {
  MetricsRegistry reg;
  auto& c = reg.counter("vigil_c_total", "C.", {"t"});
  auto& h = reg.histogram("vigil_h_seconds", "H.", MetricsRegistry::latency_buckets_s());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        c.with({std::to_string(t % 2)}).inc();
        h.get().observe(0.001);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_DOUBLE_EQ(c.with({"0"}).value() + c.with({"1"}).value(), 8000);
  EXPECT_EQ(h.get().snapshot().count, 8000u);
  EXPECT_NE(reg.render().find("vigil_h_seconds_count 8000\n"), std::string::npos);
}

}  // namespace
}  // namespace vigil::server
