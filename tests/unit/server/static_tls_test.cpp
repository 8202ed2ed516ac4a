// SPDX-License-Identifier: Apache-2.0
// Static files for the dashboard, and TLS with a self-signed certificate made by the test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "server/http.hpp"
#include "test_client.hpp"

namespace vigil::server {
namespace {

namespace fs = std::filesystem;
using testing::Connection;
using testing::fetch;

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("vigil-server-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void write(const fs::path& rel, const std::string& content) const {
    fs::create_directories((path_ / rel).parent_path());
    std::ofstream(path_ / rel, std::ios::binary) << content;
  }

 private:
  fs::path path_;
};

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    web_.write("index.html", "<!doctype html><title>Vigil</title>");
    web_.write("app.js", "console.log('vigil');");
    web_.write("style.css", "body{margin:0}");
    web_.write("logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
    web_.write("img/icon.png", std::string("\x89PNG\r\n\x1a\n\0\0", 10));
    web_.write("sub/index.html", "<p>sub</p>");
    web_.write("secret.db", "not for the web");
    web_.write(".hidden.js", "hidden");
    outside_.write("passwd.txt", "root:x:0:0");
    fs::create_symlink(outside_.path() / "passwd.txt", web_.path() / "link.txt");

    Router router;
    router.add("GET", "/api/v1/ping", sync_handler([](const Request&, const PathParams&) {
                 return Response::json(200, R"({"pong":true})");
               }));
    router.add("GET", "/{*path}", static_files(web_.path()));
    ServerOptions options;
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options, std::move(router));
    ASSERT_TRUE(server_->start());
    port_ = server_->port();
  }
  void TearDown() override { server_->stop(); }

  TempDir web_;
  TempDir outside_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
};

TEST_F(StaticFilesTest, ServesKnownTypes) {
  struct Case {
    const char* target;
    const char* type;
    std::size_t size;
  };
  for (const auto& c : {Case{"/", "text/html; charset=utf-8", 35},
                        Case{"/index.html", "text/html; charset=utf-8", 35},
                        Case{"/app.js", "text/javascript; charset=utf-8", 21},
                        Case{"/style.css", "text/css; charset=utf-8", 14},
                        Case{"/logo.svg", "image/svg+xml", 41},
                        Case{"/img/icon.png", "image/png", 10},
                        Case{"/sub/", "text/html; charset=utf-8", 10},
                        Case{"/sub", "text/html; charset=utf-8", 10}}) {
    const auto r = fetch(port_, "GET", c.target);
    ASSERT_TRUE(r) << c.target;
    EXPECT_EQ(r->status, 200) << c.target;
    EXPECT_EQ(r->header("content-type"), c.type) << c.target;
    EXPECT_EQ(r->body.size(), c.size) << c.target;
    EXPECT_EQ(r->header("x-content-type-options"), "nosniff");
  }
  EXPECT_EQ(fetch(port_, "GET", "/api/v1/ping")->body, R"({"pong":true})");
  Connection c(port_);
  const auto head = c.request("HEAD", "/app.js");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), "21");
}

TEST_F(StaticFilesTest, RefusesTraversalHiddenAndUnknownFiles) {
  for (const char* target :
       {"/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2F..%2Fetc%2Fpasswd",
        "/sub/../index.html", "/./index.html", "/secret.db", "/.hidden.js", "/missing.js",
        "/link.txt", "/img//icon.png", "/img%5Cicon.png", "/img/icon.png%00.js"}) {
    const auto r = fetch(port_, "GET", target);
    ASSERT_TRUE(r) << target;
    EXPECT_TRUE(r->status == 404 || r->status == 400) << target << " -> " << r->status;
    EXPECT_EQ(r->body.find("root:"), std::string::npos) << target;
  }
  EXPECT_EQ(fetch(port_, "GET", "/../etc/passwd")->status, 404);
  EXPECT_EQ(fetch(port_, "POST", "/index.html")->status, 405);
}

bool have_openssl() { return std::system("command -v openssl >/dev/null 2>&1") == 0; }

TEST(TlsServer, RoundTripWithASelfSignedCertificate) {
  if (!have_openssl()) GTEST_SKIP() << "the openssl command is not installed";
  TempDir dir;
  const auto cert = dir.path() / "cert.pem";
  const auto key = dir.path() / "key.pem";
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1"
                          " -keyout '" + key.string() + "' -out '" + cert.string() +
                          "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  Router router;
  router.add_sync("POST", "/api/v1/echo/{id}", [](const Request& req, const PathParams& p) {
    return Response::json(200, "{\"id\":" + json_quote(p.at("id")) + ",\"body\":" +
                                   json_quote(req.body) + "}");
  });
  ServerOptions options;
  options.port = 0;
  options.tls_cert_file = cert.string();
  options.tls_key_file = key.string();
  options.metrics_port = 0;
  HttpServer server(options, std::move(router));
  const auto started = server.start();
  ASSERT_TRUE(started) << started.error().to_string();

  {
    Connection c(server.port(), /*tls=*/true);
    ASSERT_TRUE(c.ok());
    for (int i = 0; i < 3; ++i) {  // keep-alive over TLS
      const auto r = c.request("POST", "/api/v1/echo/e" + std::to_string(i), "secret");
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->body, "{\"id\":\"e" + std::to_string(i) + "\",\"body\":\"secret\"}");
    }
  }
  {  // plain HTTP on the TLS port gets no answer
    Connection c(server.port());
    ASSERT_TRUE(c.send("GET /api/v1/echo/x HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto r = c.read_response();
    EXPECT_FALSE(r && r->status == 200);
  }
  // The metrics listener stays plain HTTP.
  const auto m = fetch(server.metrics_port(), "GET", "/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  server.stop();
}

}  // namespace
}  // namespace vigil::server
