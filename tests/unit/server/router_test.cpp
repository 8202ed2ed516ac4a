// SPDX-License-Identifier: Apache-2.0
// The router, URL decoding and the request/response helpers, without sockets.
#include <gtest/gtest.h>

#include <stdexcept>

#include "server/http.hpp"

namespace vigil::server {
namespace {

Handler noop() {
  return [](Request&&, PathParams&&, Reply reply) { reply(Response::json(200, "{}")); };
}

TEST(PercentDecode, DecodesEscapesAndRejectsMalformedOnes) {
  EXPECT_EQ(percent_decode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%e2%82%AC", false), "\xe2\x82\xac");
  EXPECT_EQ(percent_decode("%", false), std::nullopt);
  EXPECT_EQ(percent_decode("%2", false), std::nullopt);
  EXPECT_EQ(percent_decode("%zz", false), std::nullopt);
  EXPECT_EQ(percent_decode("%00", false), std::nullopt);
}

TEST(ParseQuery, SplitsDecodesAndLetsTheLastRepeatWin) {
  const auto q = parse_query("from=2024-01-01T00%3A00%3A00Z&venue=riverside+hall&flag&a=1&a=2&");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->at("from"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(q->at("venue"), "riverside hall");
  EXPECT_EQ(q->at("flag"), "");
  EXPECT_EQ(q->at("a"), "2");
  EXPECT_FALSE(parse_query("a=%zz"));
  EXPECT_TRUE(parse_query("")->empty());
}

TEST(Router, MatchesLiteralsAndParameters) {
  Router r;
  r.add("GET", "/api/v1/venues", noop());
  r.add("GET", "/api/v1/venues/{id}", noop());
  r.add("POST", "/api/v1/venues/{id}/telemetry", noop());
  r.add("POST", "/api/v1/warnings/{id}/matches/{gathering}/ack", noop());

  auto m = r.match("GET", "/api/v1/venues/riverside%20hall");
  ASSERT_EQ(m.kind, Router::Match::Kind::found);
  EXPECT_EQ(m.route, "/api/v1/venues/{id}");
  EXPECT_EQ(m.params.at("id"), "riverside hall");
  EXPECT_EQ(m.decoded_path, "/api/v1/venues/riverside hall");

  m = r.match("POST", "/api/v1/warnings/w%2F1/matches/g7/ack");
  ASSERT_EQ(m.kind, Router::Match::Kind::found);
  EXPECT_EQ(m.params.at("id"), "w/1");  // an encoded slash stays inside its segment
  EXPECT_EQ(m.params.at("gathering"), "g7");

  EXPECT_EQ(r.match("GET", "/api/v1/venues/").kind, Router::Match::Kind::not_found);
  EXPECT_EQ(r.match("GET", "/api/v1/venues/a/b").kind, Router::Match::Kind::not_found);
  EXPECT_EQ(r.match("GET", "/nope").kind, Router::Match::Kind::not_found);
  EXPECT_EQ(r.match("GET", "/api/v1/venues/%zz").kind, Router::Match::Kind::bad_request);
  EXPECT_EQ(r.match("GET", "*").kind, Router::Match::Kind::bad_request);
}

TEST(Router, AnswersMethodNotAllowedWithTheAllowedMethods) {
  Router r;
  r.add("GET", "/api/v1/venues/{id}", noop());
  r.add("PUT", "/api/v1/venues/{id}", noop());
  const auto m = r.match("DELETE", "/api/v1/venues/x");
  EXPECT_EQ(m.kind, Router::Match::Kind::method_not_allowed);
  EXPECT_EQ(m.allow, "GET, HEAD, PUT");
  EXPECT_EQ(m.route, "/api/v1/venues/{id}");
  EXPECT_EQ(r.match("HEAD", "/api/v1/venues/x").kind, Router::Match::Kind::found);
}

TEST(Router, PrefersLiteralsOverParametersOverRest) {
  Router r;
  r.add("GET", "/{*path}", noop());
  r.add("GET", "/api/v1/venues/{id}", noop());
  r.add("GET", "/api/v1/venues/new", noop());
  EXPECT_EQ(r.match("GET", "/api/v1/venues/new").route, "/api/v1/venues/new");
  EXPECT_EQ(r.match("GET", "/api/v1/venues/x").route, "/api/v1/venues/{id}");
  const auto m = r.match("GET", "/js/app.js");
  EXPECT_EQ(m.route, "/{*path}");
  EXPECT_EQ(m.params.at("path"), "js/app.js");
  EXPECT_EQ(r.match("GET", "/").params.at("path"), "");
}

TEST(Router, RejectsMalformedPatterns) {
  Router r;
  EXPECT_THROW(r.add("GET", "api", noop()), std::invalid_argument);
  EXPECT_THROW(r.add("get", "/a", noop()), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/{}", noop()), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/{*rest}/b", noop()), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/{x}/{x}", noop()), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/x{y}", noop()), std::invalid_argument);
  r.add("GET", "/a", noop());
  EXPECT_THROW(r.add("GET", "/a", noop()), std::invalid_argument);
}

TEST(Request, FindsHeadersAndBearerTokens) {
  Request req;
  req.headers["authorization"] = "Bearer  abc.def ";
  req.headers["content-type"] = "application/json";
  EXPECT_EQ(req.header("Content-Type"), "application/json");
  EXPECT_EQ(req.header("x-missing"), "");
  EXPECT_EQ(req.bearer_token(), "abc.def");
  req.headers["authorization"] = "bearer xyz";
  EXPECT_EQ(req.bearer_token(), "xyz");
  req.headers["authorization"] = "Basic dXNlcjpwYXNz";
  EXPECT_EQ(req.bearer_token(), std::nullopt);
  req.headers["authorization"] = "Bearer ";
  EXPECT_EQ(req.bearer_token(), std::nullopt);
  req.headers.erase("authorization");
  EXPECT_EQ(req.bearer_token(), std::nullopt);
}

TEST(Response, ErrorIsEscapedJson) {
  const auto r = Response::error(400, "bad \"value\"\n\x01");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"error":"bad \"value\"\n\u0001"})");
}

}  // namespace
}  // namespace vigil::server
