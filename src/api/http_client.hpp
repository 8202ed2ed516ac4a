// SPDX-License-Identifier: Apache-2.0
// A small blocking HTTP/1.1 client (http:// and https://) for what Vigil sends out: webhook
// notifications and `vigil replay`. One request per connection, every step under a timeout.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace vigil::api {

struct Url {
  bool tls = false;
  std::string host;
  int port = 80;
  std::string target = "/";  // path and query
};
// `http[s]://host[:port][/path?query]`; errors say what is wrong with the URL.
Result<Url> parse_url(std::string_view text);

struct HttpResult {
  int status = 0;
  std::string body;
};

struct HttpRequestOptions {
  std::chrono::milliseconds timeout{5000};
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Authorization
  bool verify_tls = true;  // check the server's certificate against the system's CAs
};

// Sends `method url` with `body` (Content-Type `content_type`) and reads the whole answer.
// Errors: bad URL, connection refused, TLS failure, timeout, malformed answer.
Result<HttpResult> http_request(const std::string& method, const std::string& url,
                                const std::string& body, const std::string& content_type,
                                const HttpRequestOptions& options = {});

}  // namespace vigil::api
