// SPDX-License-Identifier: Apache-2.0
// The generic HTTP layer of the operations server: requests and responses as plain values, a
// router with `{name}` path parameters, asynchronous handlers, Server-Sent Events, static files,
// and an HTTP/1.1 server (optionally TLS) with limits, timeouts and a graceful stop.
// No domain logic lives here; endpoints are written on top of this API.
//
// Threads (see docs/server-internals.md)
// - The server runs `ServerOptions::io_threads` I/O threads. Handlers, the access-log hook and the
//   log hook are called on those threads; they must not block for long. Slow work (a durable
//   commit, a simulation) goes to another thread, which calls the `Reply` when done.
// - A `Reply` and an `EventStream` may be used from any thread; the server marshals the response
//   or the events back to the connection's own strand.
// - The server never calls a handler or hook (access_log, log) with one of its own locks held,
//   so they may take their own locks and call Reply or EventStream::send freely.
// - This header includes no Boost header: Beast and Asio are confined to http_server.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace vigil::server {

class MetricsRegistry;
class EventStream;
class ServerCore;  // the implementation, in http_server.cpp

// Case-sensitive map with heterogeneous lookup (`find(std::string_view)`).
using StringMap = std::map<std::string, std::string, std::less<>>;
// Values of the `{name}` segments of the matched route, percent-decoded.
using PathParams = StringMap;

struct Request {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // the raw request target, e.g. "/api/v1/gatherings?venue=a%20b"
  std::string path;    // percent-decoded path, without the query
  StringMap query;     // percent-decoded ('+' is a space); for a repeated key the last one wins
  StringMap headers;   // lower-case names; repeated fields joined with ", "
  std::string body;
  std::string remote;  // peer "address:port"
  std::string route;   // the pattern that matched, e.g. "/api/v1/venues/{id}" (set by the server)

  // The value of a header (name case-insensitive), or empty when absent.
  std::string_view header(std::string_view name) const;
  // The token of `Authorization: Bearer <token>` (scheme case-insensitive), or nullopt when the
  // header is absent, has another scheme or an empty token.
  std::optional<std::string_view> bearer_token() const;
  // A query parameter, or nullopt when absent.
  std::optional<std::string_view> query_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra header fields. Names or values containing CR or LF are dropped (and logged).
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the response is a Server-Sent Events stream (`text/event-stream`, status 200; body
  // and content_type are ignored) that lasts until the stream is closed, the client goes away or
  // the server stops. The connection is not reused afterwards.
  std::shared_ptr<EventStream> stream;

  static Response json(int status, std::string body);
  // `{ "error": message }`, the message JSON-escaped.
  static Response error(int status, std::string_view message);
  static Response text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
  static Response event_stream(std::shared_ptr<EventStream> stream);
};

// Completes a request. Call it exactly once, from any thread, at any time; later calls are
// ignored. If every copy is destroyed without a call, the client gets 500. A call after the
// client went away, after `handler_timeout` or after the server stopped is ignored (and is safe).
using Reply = std::function<void(Response)>;
// Called on an I/O thread with the request (owned by the handler from now on) and path parameters.
// A handler that throws gets 500 (the exception is logged) unless it already replied.
using Handler = std::function<void(Request&&, PathParams&&, Reply)>;
// A handler that answers at once, on the I/O thread.
using SyncHandler = std::function<Response(const Request&, const PathParams&)>;
Handler sync_handler(SyncHandler handler);

// A Server-Sent Events stream to one client. The producer (any thread) keeps a shared_ptr, calls
// `send()` and drops the stream once `closed()` is true. The connection formats nothing else than
// the queued events and a `: keepalive` comment every `ServerOptions::sse_keepalive`.
class EventStream {
 public:
  struct Limits {
    // A client that falls further behind than this is dropped (stream closed, logged).
    std::size_t max_queued_events = 1024;
    std::size_t max_queued_bytes = 4u << 20;
  };
  static std::shared_ptr<EventStream> create(Limits limits);
  static std::shared_ptr<EventStream> create() { return create(Limits{}); }

  // Queues `event: <event>\ndata: <line>\n...\n` (one `data:` line per line of data; CR and LF
  // are removed from the event name; an empty event name sends data only). Returns false, and
  // queues nothing, when the stream is closed. Thread-safe. A send that would exceed the limits
  // closes the stream and drops the client.
  bool send(std::string_view event, std::string_view data);
  // Ends the stream: events already queued are still delivered, then the connection closes.
  void close();
  // True once closed by the producer, by the server (client gone, overflow, server stopping).
  bool closed() const;
  // True when the client was dropped because it fell too far behind.
  bool overflowed() const;

  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;
  ~EventStream();

 private:
  explicit EventStream(Limits limits);
  friend struct EventStreamAccess;  // the connection side, in the server's sources

  const Limits limits_;
  mutable std::mutex mu_;
  std::string pending_;                // GUARDED_BY(mu_): formatted frames not yet taken
  std::size_t pending_events_ = 0;     // GUARDED_BY(mu_)
  bool closed_ = false;                // GUARDED_BY(mu_)
  bool overflowed_ = false;            // GUARDED_BY(mu_)
  bool wake_pending_ = false;          // GUARDED_BY(mu_)
  std::function<void()> waker_;        // GUARDED_BY(mu_): set while a connection is attached
};

// Routes requests by method and path pattern. Patterns are absolute paths whose segments are
// literals, `{name}` (one non-empty segment) or, as last segment, `{*name}` (the rest of the path,
// possibly empty, segments joined with '/'). A literal segment beats a parameter, which beats a
// rest parameter, from left to right. HEAD is served by the GET route when no HEAD route exists.
// Build the router before the server starts; it is read-only (and thread-safe) afterwards.
class Router {
 public:
  // Throws std::invalid_argument on a malformed pattern or a duplicate (method, pattern).
  void add(std::string_view method, std::string_view pattern, Handler handler);
  void add_sync(std::string_view method, std::string_view pattern, SyncHandler handler);

  struct Match {
    enum class Kind { found, not_found, method_not_allowed, bad_request };
    Kind kind = Kind::not_found;
    const Handler* handler = nullptr;  // found: owned by the router
    PathParams params;
    std::string route;         // found, method_not_allowed: the pattern
    std::string allow;         // method_not_allowed: e.g. "GET, HEAD, POST"
    std::string decoded_path;  // all but bad_request
  };
  // `raw_path` is the path part of the request target, still percent-encoded. Invalid percent
  // encoding or an encoded NUL gives bad_request.
  Match match(std::string_view method, std::string_view raw_path) const;

 private:
  struct Segment {
    enum class Kind { literal, param, rest };  // in order of precedence (Router::match)
    Kind kind;
    std::string text;  // the literal, or the parameter's name
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

// Percent-decoding; `plus_is_space` for query strings. nullopt on a malformed escape or NUL.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);
// `a=1&b=x%20y` -> {a: 1, b: "x y"}; nullopt when a key or value is malformed.
std::optional<StringMap> parse_query(std::string_view query);
// JSON string literal (with the quotes) for `s`; control characters escaped.
std::string json_quote(std::string_view s);

// Serves files under `root` for a route with a rest parameter named `path`, e.g.
// `router.add("GET", "/{*path}", static_files("web"))`. "" and directories map to index.html.
// Only known dashboard types are served (.html .js .mjs .css .svg .png .ico .json .map .txt .woff2
// .webp .jpg); anything else, a missing file, a `.` or `..` segment, a hidden (dot) file or a path
// leaving `root` (symlinks included) is 404. Files are read on the I/O thread (keep them small).
Handler static_files(std::filesystem::path root);
// Answers the registry's render() with the Prometheus content type.
Handler metrics_handler(std::shared_ptr<const MetricsRegistry> registry);

enum class LogLevel { debug, info, warn, error };

struct AccessLogEntry {
  std::string_view method;
  std::string_view path;    // decoded path (raw target when it could not be decoded)
  std::string_view route;   // the pattern, or "" when nothing matched
  std::string_view remote;
  int status = 0;
  double latency_s = 0.0;   // from the end of the request header to the response written
  std::size_t request_body_bytes = 0;
  std::size_t response_body_bytes = 0;
  bool tls = false;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port, see HttpServer::port()
  unsigned io_threads = 2;

  std::size_t max_body_bytes = 1u << 20;   // larger: 413, connection closed, body not read
  std::size_t max_header_bytes = 16u << 10;  // larger: 431
  std::size_t max_connections = 4096;       // more: 503 and close

  // A client must send a complete request header within this time from its first byte (and the
  // first request within this time of connecting); otherwise the connection is closed.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};   // to receive the whole body
  std::chrono::milliseconds idle_timeout{60'000};   // between keep-alive requests
  std::chrono::milliseconds write_timeout{30'000};  // to write one response or batch of events
  std::chrono::milliseconds handler_timeout{60'000};  // no Reply by then: 503
  std::chrono::milliseconds sse_keepalive{15'000};
  std::chrono::milliseconds shutdown_grace{5'000};  // stop(): in-flight requests may finish

  // TLS when both are set: PEM certificate chain and private key.
  std::string tls_cert_file;
  std::string tls_key_file;

  // A second, plain-HTTP listener serving only GET /metrics (when metrics_port is set; 0 picks a
  // free port, see HttpServer::metrics_port()).
  std::optional<std::uint16_t> metrics_port;
  std::string metrics_address = "127.0.0.1";

  // The registry the server records into (and the metrics listener renders); created if null.
  std::shared_ptr<MetricsRegistry> metrics;

  // Called on an I/O thread after each response is written (SSE: when the stream starts).
  std::function<void(const AccessLogEntry&)> access_log;
  // Operational messages (dropped SSE clients, handler errors, accept errors); any thread.
  // Default: warn and error lines on stderr.
  std::function<void(LogLevel, std::string_view)> log;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Router router);
  ~HttpServer();  // stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listeners, loads the TLS files and starts the I/O threads; returns at once.
  // Errors (address in use, unreadable certificate) come back as values. Call once.
  Result<void> start();
  // Graceful: stops accepting, closes idle connections and event streams, lets in-flight requests
  // finish for up to `shutdown_grace`, then closes everything and joins the I/O threads.
  // Idempotent; call from any thread except an I/O thread (i.e. not from a handler).
  void stop();

  std::uint16_t port() const;          // the bound port (after start)
  std::uint16_t metrics_port() const;  // 0 without a metrics listener
  MetricsRegistry& metrics();
  std::size_t open_connections() const;
  std::size_t open_streams() const;

 private:
  std::unique_ptr<ServerCore> impl_;
};

}  // namespace vigil::server
