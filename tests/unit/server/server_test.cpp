// SPDX-License-Identifier: Apache-2.0
// The HTTP server over real loopback sockets: routing, limits, timeouts, asynchronous replies,
// event streams, concurrency, graceful stop, metrics and the access log.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "server/http.hpp"
#include "server/metrics.hpp"
#include "test_client.hpp"

namespace vigil::server {
namespace {

using namespace std::chrono_literals;
using testing::Connection;
using testing::fetch;

class ServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) server_->stop();
    for (auto& t : workers_) t.join();
  }

  // Starts a server on a free port with the test's log capture.
  void start(Router router, ServerOptions options = {}) {
    options.port = 0;
    options.log = [this](LogLevel, std::string_view message) {
      std::lock_guard lock(log_mu_);
      log_.emplace_back(message);
    };
    server_ = std::make_unique<HttpServer>(std::move(options), std::move(router));
    const auto started = server_->start();
    ASSERT_TRUE(started) << started.error().to_string();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  bool logged(std::string_view fragment) {
    std::lock_guard lock(log_mu_);
    for (const auto& line : log_) {
      if (line.find(fragment) != std::string::npos) return true;
    }
    return false;
  }

  // Runs fn on a worker thread after a delay (joined in TearDown).
  void later(std::chrono::milliseconds delay, std::function<void()> fn) {
    workers_.emplace_back([delay, fn = std::move(fn)] {
      std::this_thread::sleep_for(delay);
      fn();
    });
  }

  // Polls until pred() holds or the timeout passes.
  template <class Pred>
  static bool eventually(Pred pred, std::chrono::milliseconds timeout = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  static Router echo_router() {
    Router r;
    r.add_sync("GET", "/api/v1/venues/{id}", [](const Request& req, const PathParams& p) {
      return Response::json(200, "{\"id\":" + json_quote(p.at("id")) + ",\"path\":" +
                                     json_quote(req.path) + "}");
    });
    r.add_sync("POST", "/api/v1/venues/{id}/telemetry",
               [](const Request& req, const PathParams& p) {
                 return Response::json(200, "{\"id\":" + json_quote(p.at("id")) +
                                                ",\"bytes\":" + std::to_string(req.body.size()) +
                                                "}");
               });
    r.add_sync("GET", "/query", [](const Request& req, const PathParams&) {
      std::string out;
      for (const auto& [k, v] : req.query) out += k + "=" + v + ";";
      return Response::text(200, out);
    });
    return r;
  }

  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  std::mutex log_mu_;
  std::vector<std::string> log_;
  std::vector<std::thread> workers_;
  std::vector<Reply> held_;  // GUARDED_BY(log_mu_): replies a test never answers in time
};

TEST_F(ServerTest, RoutesWithPathParametersAndDecodedQueries) {
  start(echo_router());
  auto r = fetch(port_, "GET", "/api/v1/venues/riverside%20hall");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_EQ(r->body, R"({"id":"riverside hall","path":"/api/v1/venues/riverside hall"})");

  r = fetch(port_, "GET", "/query?venue=a%26b&from=2024-01-01T10%3A00%3A00Z&q=x+y");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "from=2024-01-01T10:00:00Z;q=x y;venue=a&b;");

  r = fetch(port_, "POST", "/api/v1/venues/v1/telemetry", std::string(1000, 'x'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, R"({"id":"v1","bytes":1000})");
}

TEST_F(ServerTest, AnswersNotFoundAndMethodNotAllowed) {
  start(echo_router());
  auto r = fetch(port_, "GET", "/api/v1/nothing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, R"({"error":"not found"})");

  r = fetch(port_, "DELETE", "/api/v1/venues/x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("allow"), "GET, HEAD");

  r = fetch(port_, "GET", "/api/v1/venues/%zz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = fetch(port_, "GET", "/query?a=%zz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

TEST_F(ServerTest, HeadAnswersTheGetRouteWithoutBody) {
  start(echo_router());
  Connection c(port_);
  const auto get = c.request("GET", "/api/v1/venues/abc");
  ASSERT_TRUE(get);
  auto r = c.request("HEAD", "/api/v1/venues/abc");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-length"), std::to_string(get->body.size()));
  EXPECT_TRUE(r->body.empty());
  r = c.request("GET", "/api/v1/venues/abc");  // the connection is still in step
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, get->body);
}

TEST_F(ServerTest, KeepsConnectionsAliveAndHandlesPipelinedRequests) {
  start(echo_router());
  Connection c(port_);
  ASSERT_TRUE(c.send("GET /api/v1/venues/a HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /api/v1/venues/b HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto a = c.read_response();
  auto b = c.read_response();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->body.find("\"a\""), std::string::npos);
  EXPECT_NE(b->body.find("\"b\""), std::string::npos);
  auto r = c.request("GET", "/api/v1/venues/c", {}, "Connection: close\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerTest, RejectsAnOversizedBodyWith413AndStaysUp) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  start(echo_router(), options);
  {
    Connection c(port_);
    ASSERT_TRUE(c.send("POST /api/v1/venues/v/telemetry HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: 10000000\r\n\r\n" + std::string(4096, 'x')));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(r->header("content-type"), "application/json");
    EXPECT_NE(r->body.find("\"error\""), std::string::npos);
    EXPECT_TRUE(c.closed_by_peer());
  }
  {  // chunked: the limit applies while reading
    Connection c(port_);
    std::string chunked = "POST /api/v1/venues/v/telemetry HTTP/1.1\r\nHost: x\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) chunked += "200\r\n" + std::string(512, 'y') + "\r\n";
    chunked += "0\r\n\r\n";
    ASSERT_TRUE(c.send(chunked));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
  }
  auto r = fetch(port_, "POST", "/api/v1/venues/v/telemetry", std::string(1024, 'z'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"id":"v","bytes":1024})");
}

TEST_F(ServerTest, AnswersMalformedRequestsWith400) {
  start(echo_router());
  for (const std::string bad : {"this is not http\r\n\r\n", "GET / HTTP/9.x\r\n\r\n",
                                "G\x01T / HTTP/1.1\r\n\r\n",
                                "GET /a HTTP/1.1\r\nBad Header\r\n\r\n"}) {
    Connection c(port_);
    ASSERT_TRUE(c.send(bad));
    auto r = c.read_response();
    ASSERT_TRUE(r) << bad;
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_TRUE(c.closed_by_peer());
  }
  EXPECT_EQ(fetch(port_, "GET", "/api/v1/venues/x")->status, 200);
}

TEST_F(ServerTest, AnswersAnOversizedHeaderWith431) {
  ServerOptions options;
  options.max_header_bytes = 2048;
  start(echo_router(), options);
  auto r = fetch(port_, "GET", "/api/v1/venues/x", {},
                 "X-Big: " + std::string(4096, 'h') + "\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
}

TEST_F(ServerTest, CutsOffSlowAndIdleClients) {
  ServerOptions options;
  options.header_timeout = 300ms;
  options.idle_timeout = 300ms;
  start(echo_router(), options);
  const auto t0 = std::chrono::steady_clock::now();
  Connection slow(port_);
  ASSERT_TRUE(slow.send("GET /api/v1/venues/x HTTP/1.1\r\nHost: x\r\n"));  // never finished
  Connection silent(port_);
  Connection idle(port_);
  ASSERT_TRUE(idle.request("GET", "/api/v1/venues/x"));
  EXPECT_TRUE(slow.closed_by_peer());
  EXPECT_TRUE(silent.closed_by_peer());
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_TRUE(eventually([&] { return server_->open_connections() == 0; }));
  EXPECT_EQ(fetch(port_, "GET", "/api/v1/venues/x")->status, 200);
}

TEST_F(ServerTest, AnswersExpect100Continue) {
  start(echo_router());
  Connection c(port_);
  ASSERT_TRUE(c.send("POST /api/v1/venues/v/telemetry HTTP/1.1\r\nHost: x\r\n"
                     "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.send("hello"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"id":"v","bytes":5})");
}

TEST_F(ServerTest, DeliversARepliesMadeLaterOnAnotherThread) {
  Router r;
  r.add("POST", "/commit", [this](Request&& req, PathParams&&, Reply reply) {
    // As a store would: the commit happens on a writer thread, which replies when durable.
    later(100ms, [reply, body = std::move(req.body)] {
      reply(Response::json(200, "{\"committed\":" + json_quote(body) + "}"));
      reply(Response::error(500, "a second reply is ignored"));
    });
  });
  r.add("GET", "/dropped", [](Request&&, PathParams&&, Reply) {});
  r.add("GET", "/throws", [](Request&&, PathParams&&, Reply) -> void {
    throw std::runtime_error("boom");
  });
  r.add("GET", "/never", [this](Request&&, PathParams&&, Reply reply) {
    std::lock_guard lock(log_mu_);
    held_.push_back(std::move(reply));
  });
  r.add("GET", "/bad-status", [](Request&&, PathParams&&, Reply reply) {
    Response resp = Response::json(42, "{}");
    resp.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: x");
    reply(std::move(resp));
  });
  ServerOptions options;
  options.handler_timeout = 300ms;
  start(std::move(r), options);

  const auto t0 = std::chrono::steady_clock::now();
  auto resp = fetch(port_, "POST", "/commit", "batch-1");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, R"({"committed":"batch-1"})");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 90ms);

  resp = fetch(port_, "GET", "/dropped");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 500);
  resp = fetch(port_, "GET", "/throws");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 500);
  EXPECT_TRUE(logged("boom"));
  resp = fetch(port_, "GET", "/never");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 503);
  {
    std::lock_guard lock(log_mu_);
    for (auto& reply : held_) reply(Response::json(200, "{}"));  // too late: ignored, safe
  }
  resp = fetch(port_, "GET", "/bad-status");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 500);
  EXPECT_EQ(resp->header("x-evil"), "");
}

TEST_F(ServerTest, StreamsServerSentEventsInOrderWithKeepalives) {
  std::mutex mu;
  std::shared_ptr<EventStream> stream;
  Router r;
  r.add("GET", "/api/v1/stream", [&](Request&& req, PathParams&&, Reply reply) {
    auto s = EventStream::create();
    s->send("hello", std::string(req.query_param("venue").value_or("")));
    {
      std::lock_guard lock(mu);
      stream = s;
    }
    reply(Response::event_stream(s));
  });
  ServerOptions options;
  options.sse_keepalive = 100ms;
  start(std::move(r), options);

  Connection c(port_);
  ASSERT_TRUE(c.send("GET /api/v1/stream?venue=hall-1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = c.read_response();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-type"), "text/event-stream");
  EXPECT_EQ(head->header("cache-control"), "no-cache");
  ASSERT_TRUE(c.read_until("event: hello\ndata: hall-1\n\n"));
  ASSERT_TRUE(c.read_until(": keepalive\n\n"));
  EXPECT_TRUE(eventually([&] { return server_->open_streams() == 1; }));

  std::shared_ptr<EventStream> s;
  {
    std::lock_guard lock(mu);
    s = stream;
  }
  std::thread producer([s] {
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(s->send("state", "{\"seq\":" + std::to_string(i) + "}"));
      if (i % 50 == 0) std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(s->send("multi", "line one\nline two"));
  });
  producer.join();
  ASSERT_TRUE(c.read_until("event: multi\ndata: line one\ndata: line two\n\n"));
  std::size_t pos = 0;
  for (int i = 0; i < 200; ++i) {
    const auto next =
        c.buffer().find("event: state\ndata: {\"seq\":" + std::to_string(i) + "}\n\n", pos);
    ASSERT_NE(next, std::string::npos) << "event " << i << " missing or out of order";
    pos = next;
  }
  s->close();
  EXPECT_FALSE(s->send("late", "x"));
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(eventually([&] { return server_->open_streams() == 0; }));
}

TEST_F(ServerTest, EventStreamClosesWhenTheClientGoes) {
  std::shared_ptr<EventStream> stream;
  std::mutex mu;
  Router r;
  r.add("GET", "/stream", [&](Request&&, PathParams&&, Reply reply) {
    auto s = EventStream::create();
    {
      std::lock_guard lock(mu);
      stream = s;
    }
    reply(Response::event_stream(s));
  });
  ServerOptions options;
  options.sse_keepalive = 50ms;
  start(std::move(r), options);
  {
    Connection c(port_);
    ASSERT_TRUE(c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(c.read_until(": keepalive"));
  }
  std::shared_ptr<EventStream> s;
  {
    std::lock_guard lock(mu);
    s = stream;
  }
  ASSERT_TRUE(s);
  // The next keepalive or event write fails; producers then see closed() and drop the stream.
  EXPECT_TRUE(eventually([&] { return s->closed(); }));
  EXPECT_FALSE(s->overflowed());
}

// A client that stops reading is dropped once its queue overflows, whatever its connection was
// doing: in a write (a burst of events at once, the first ones fill the socket), or idle,
// waiting for the next keepalive (after a pause, one event larger than the whole queue; this
// case used to wait for the keepalive, 15 s, before noticing).
TEST_F(ServerTest, DropsAnEventStreamClientThatFallsBehind) {
  std::shared_ptr<EventStream> stream;
  std::mutex mu;
  Router r;
  r.add("GET", "/stream", [&](Request&&, PathParams&&, Reply reply) {
    EventStream::Limits limits;
    limits.max_queued_events = 8;
    auto s = EventStream::create(limits);
    {
      std::lock_guard lock(mu);
      stream = s;
    }
    reply(Response::event_stream(s));
  });
  start(std::move(r));
  int drops = 0;
  for (const bool pause_first : {false, true}) {
    SCOPED_TRACE(pause_first ? "idle, then one event larger than the queue" : "a burst at once");
    {
      std::lock_guard lock(mu);
      stream = nullptr;
    }
    Connection c(port_);  // never reads past the header
    ASSERT_TRUE(c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(eventually([&] {
      std::lock_guard lock(mu);
      return stream != nullptr;
    }));
    std::shared_ptr<EventStream> s;
    {
      std::lock_guard lock(mu);
      s = stream;
    }
    if (pause_first) {
      std::this_thread::sleep_for(200ms);  // the connection now waits for a keepalive
      EXPECT_FALSE(s->send("state", std::string(EventStream::Limits{}.max_queued_bytes + 1, 'e')));
    } else {
      const std::string big(64 * 1024, 'e');
      int sent = 0;
      while (sent < 100000 && s->send("state", big)) ++sent;
    }
    EXPECT_TRUE(s->closed());
    EXPECT_TRUE(s->overflowed());
    ++drops;
    EXPECT_TRUE(eventually([&] { return server_->open_streams() == 0; }));
    EXPECT_NE(server_->metrics().render().find("vigil_http_event_stream_drops_total " +
                                               std::to_string(drops)),
              std::string::npos);
  }
  EXPECT_TRUE(logged("dropped"));
}

TEST_F(ServerTest, ServesManyConcurrentClients) {
  ServerOptions options;
  options.io_threads = 2;
  start(echo_router(), options);
  constexpr int clients = 32;
  constexpr int requests = 50;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      Connection c(port_);
      for (int i = 0; i < requests; ++i) {
        const std::string id = "c" + std::to_string(t) + "-" + std::to_string(i);
        // Every tenth request on a fresh connection, the rest keep-alive.
        auto r = i % 10 == 9 ? fetch(port_, "GET", "/api/v1/venues/" + id)
                             : c.request("GET", "/api/v1/venues/" + id);
        if (r && r->status == 200 &&
            r->body == "{\"id\":\"" + id + "\",\"path\":\"/api/v1/venues/" + id + "\"}") {
          ++good;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), clients * requests);
  // Metrics are recorded just after each response is written: wait for the last ones.
  EXPECT_TRUE(eventually([&] {
    return server_->metrics().render().find("status=\"200\"} 1600\n") != std::string::npos;
  }));
  const auto text = server_->metrics().render();
  EXPECT_NE(text.find("vigil_http_requests_total{method=\"GET\",route=\"/api/v1/venues/{id}\","
                      "status=\"200\"} 1600\n"),
            std::string::npos);
  EXPECT_NE(text.find("vigil_http_request_duration_seconds_count{route=\"/api/v1/venues/{id}\"} "
                      "1600\n"),
            std::string::npos);
}

TEST_F(ServerTest, StopLetsInFlightRequestsFinishAndClosesTheRest) {
  std::promise<void> entered;
  std::atomic<bool> entered_once{false};
  Router r = echo_router();
  r.add("POST", "/slow", [&](Request&&, PathParams&&, Reply reply) {
    if (!entered_once.exchange(true)) entered.set_value();
    later(300ms, [reply] { reply(Response::json(200, R"({"done":true})")); });
  });
  r.add("GET", "/stream", [](Request&&, PathParams&&, Reply reply) {
    auto s = EventStream::create();
    s->send("hello", "x");
    reply(Response::event_stream(s));
  });
  start(std::move(r));

  Connection idle(port_);
  ASSERT_TRUE(idle.request("GET", "/api/v1/venues/x"));
  Connection sse(port_);
  ASSERT_TRUE(sse.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(sse.read_until("data: x\n\n"));

  Connection busy(port_);
  ASSERT_TRUE(busy.send("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  entered.get_future().wait();
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  auto resp = busy.read_response();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, R"({"done":true})");
  EXPECT_EQ(resp->header("connection"), "close");
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_TRUE(sse.closed_by_peer());
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 3s);
  EXPECT_FALSE(Connection(port_).ok());  // no longer accepting
  EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(ServerTest, StopClosesRequestsThatOutlastTheGracePeriod) {
  Router r;
  r.add("GET", "/forever", [this](Request&&, PathParams&&, Reply reply) {
    std::lock_guard lock(log_mu_);
    held_.push_back(std::move(reply));
  });
  ServerOptions options;
  options.shutdown_grace = 200ms;
  start(std::move(r), options);
  Connection c(port_);
  ASSERT_TRUE(c.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(log_mu_);
    return !held_.empty();
  }));
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_TRUE(c.closed_by_peer());
  std::lock_guard lock(log_mu_);
  held_.front()(Response::json(200, "{}"));  // after stop: ignored, safe
}

TEST_F(ServerTest, RecordsMetricsAndCallsTheAccessLog) {
  std::mutex mu;
  std::vector<std::string> lines;
  ServerOptions options;
  options.access_log = [&](const AccessLogEntry& e) {
    std::lock_guard lock(mu);
    lines.push_back(std::string(e.method) + " " + std::string(e.path) + " " +
                    std::string(e.route) + " " + std::to_string(e.status) +
                    (e.latency_s >= 0 && e.latency_s < 5 ? " ok" : " bad-latency"));
  };
  options.metrics_port = 0;
  start(echo_router(), options);
  ASSERT_NE(server_->metrics_port(), 0);
  ASSERT_NE(server_->metrics_port(), port_);
  fetch(port_, "GET", "/api/v1/venues/a%20b");
  ASSERT_TRUE(eventually([&] {  // the access log follows the response
    std::lock_guard lock(mu);
    return lines.size() == 1;
  }));
  fetch(port_, "GET", "/missing");
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return lines.size() == 2;
  }));
  auto m = fetch(server_->metrics_port(), "GET", "/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m->body.find("# TYPE vigil_http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(m->body.find("vigil_http_requests_total{method=\"GET\",route=\"/api/v1/venues/{id}\","
                         "status=\"200\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m->body.find("vigil_http_requests_total{method=\"GET\",route=\"(unmatched)\","
                         "status=\"404\"} 1\n"),
            std::string::npos);
  EXPECT_NE(m->body.find("# TYPE vigil_http_request_duration_seconds histogram\n"),
            std::string::npos);
  EXPECT_NE(m->body.find("vigil_http_request_duration_seconds_bucket{route=\"/api/v1/venues/"
                         "{id}\",le=\"+Inf\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(fetch(server_->metrics_port(), "GET", "/api/v1/venues/x")->status, 404);
  server_->stop();  // the hook captures locals of this test: no call may come after it ends
  std::lock_guard lock(mu);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0], "GET /api/v1/venues/a b /api/v1/venues/{id} 200 ok");
  EXPECT_EQ(lines[1], "GET /missing  404 ok");
}

TEST_F(ServerTest, RefusesConnectionsOverTheLimit) {
  ServerOptions options;
  options.max_connections = 2;
  start(echo_router(), options);
  Connection a(port_);
  Connection b(port_);
  ASSERT_TRUE(a.request("GET", "/api/v1/venues/a"));
  ASSERT_TRUE(b.request("GET", "/api/v1/venues/b"));
  Connection c(port_);
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(eventually([&] { return logged("refused"); }));
  a.close();
  ASSERT_TRUE(eventually([&] { return server_->open_connections() == 1; }));
  EXPECT_EQ(fetch(port_, "GET", "/api/v1/venues/d")->status, 200);
}

TEST_F(ServerTest, ReportsStartErrorsAsValues) {
  start(echo_router());
  ServerOptions options;
  options.port = port_;  // taken
  HttpServer second(options, Router{});
  const auto r = second.start();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().to_string().find("cannot listen"), std::string::npos);

  ServerOptions bad;
  bad.port = 0;
  bad.address = "not-an-address";
  HttpServer third(bad, Router{});
  EXPECT_FALSE(third.start());

  ServerOptions tls;
  tls.port = 0;
  tls.tls_cert_file = "/nonexistent/cert.pem";
  tls.tls_key_file = "/nonexistent/key.pem";
  HttpServer fourth(tls, Router{});
  EXPECT_FALSE(fourth.start());
}

}  // namespace
}  // namespace vigil::server
