// SPDX-License-Identifier: Apache-2.0
// The HTTP/1.1 server on Boost.Beast and Asio with C++20 coroutines: the only file that includes
// Boost.Asio (it compiles slowly; everything else sees http.hpp only). See
// docs/server-internals.md for the threads, coroutines, limits and shutdown.

// Under ThreadSanitizer GCC 12 warns (-Wtsan) that Asio's handler invocation uses
// std::atomic_thread_fence, which TSan does not model; the warning is about TSan's precision, not
// a defect. Placed before every include so that it covers the headers' inlined code.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include <utility>  // GCC 12: before any Asio header

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <limits>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>

#include "server/event_stream_access.hpp"
#include "server/http.hpp"
#include "server/metrics.hpp"

namespace vigil::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// After an error response whose request was not read in full (413, 400, 431), the rest of the
// request is read and discarded for at most this long / this much before the socket is closed, so
// that the client sees the answer instead of a reset.
constexpr std::chrono::milliseconds linger_time{1'000};
constexpr std::size_t linger_bytes = 4u << 20;
constexpr std::chrono::milliseconds tls_shutdown_time{500};
constexpr std::chrono::milliseconds force_stop_time{2'000};

std::string format_remote(const tcp::endpoint& ep) {
  const auto address = ep.address();
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// The method label of the request metrics: known methods, or OTHER (bounded cardinality).
std::string method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 7> known{"GET",    "HEAD",  "POST",   "PUT",
                                                         "DELETE", "PATCH", "OPTIONS"};
  for (const auto m : known) {
    if (m == method) return std::string(m);
  }
  return "OTHER";
}

bool is_parse_error(const beast::error_code& ec) {
  if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) return false;
  return ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
         ec != bhttp::error::short_read && ec != bhttp::error::need_more;
}

// Header names that the server sets itself and a handler may not override.
bool reserved_header(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
         iequals(name, "connection");
}

bool has_crlf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// One pending reply: filled by whichever thread calls the Reply, taken by the connection.
struct ReplySlot {
  std::mutex mu;
  std::optional<Response> response;  // GUARDED_BY(mu)
  bool abandoned = false;            // GUARDED_BY(mu): the connection no longer waits
  bool waiting = false;              // GUARDED_BY(mu): the connection is suspended on wake
  std::function<void()> wake;        // GUARDED_BY(mu): posts to the connection's strand

  void deliver(Response r) {
    std::lock_guard lock(mu);
    if (abandoned || response) return;
    response = std::move(r);
    if (waiting && wake) wake();
  }
  void abandon() {
    std::lock_guard lock(mu);
    abandoned = true;
    wake = nullptr;
  }
};

// Owned by every copy of one Reply; the last copy to go answers 500 if nobody replied.
struct ReplyHandle {
  std::shared_ptr<ReplySlot> slot;
  explicit ReplyHandle(std::shared_ptr<ReplySlot> s) : slot(std::move(s)) {}
  ReplyHandle(const ReplyHandle&) = delete;
  ReplyHandle& operator=(const ReplyHandle&) = delete;
  ~ReplyHandle() { slot->deliver(Response::error(500, "the handler did not reply")); }
};

}  // namespace

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // Any thread: posts the stop to the session's strand. Graceful: idle connections close,
  // in-flight requests finish, event streams end. Force: everything closes now.
  virtual void notify_stop(bool force) = 0;
};

class ServerCore {
 public:
  ServerCore(ServerOptions options, Router router);
  ~ServerCore();

  Result<void> start();
  void stop();

  std::uint16_t port() const { return port_.load(); }
  std::uint16_t metrics_port() const { return metrics_port_.load(); }
  MetricsRegistry& metrics() { return *metrics_; }
  std::size_t open_connections() const {
    std::lock_guard lock(mu_);
    return sessions_.size();
  }
  std::size_t open_streams() const { return open_streams_.load(); }

  // ---- used by sessions (any I/O thread) ----
  const ServerOptions& options() const { return opts_; }
  const Router& router(bool metrics_only) const { return metrics_only ? metrics_router_ : router_; }
  void log(LogLevel level, std::string_view message) const;
  void record(std::string_view method, std::string_view route, int status, double latency_s);
  void access_log(const AccessLogEntry& entry) const;
  void deregister(SessionBase* s);
  void stream_opened() {
    open_streams_.fetch_add(1);
    streams_gauge_->inc();
  }
  void stream_closed(bool overflowed) {
    if (overflowed) sse_dropped_->inc();
    streams_gauge_->dec();
    open_streams_.fetch_sub(1);
  }

 private:
  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, bool metrics_only);
  void spawn_session(tcp::socket socket, bool metrics_only);
  Result<void> listen(tcp::acceptor& acceptor, const std::string& address, std::uint16_t port,
                      std::atomic<std::uint16_t>& bound_port);
  void on_coroutine_exit(std::exception_ptr e, const char* what) const;
  bool on_io_thread() const;

  ServerOptions opts_;
  Router router_;
  Router metrics_router_;
  std::shared_ptr<MetricsRegistry> metrics_;
  CounterFamily* requests_total_ = nullptr;
  HistogramFamily* request_duration_ = nullptr;
  Gauge* connections_gauge_ = nullptr;
  Gauge* streams_gauge_ = nullptr;
  Counter* sse_dropped_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<SessionBase*> sessions_;  // GUARDED_BY(mu_)
  bool stopping_ = false;            // GUARDED_BY(mu_)
  bool started_ = false;             // GUARDED_BY(mu_)
  bool stopped_ = false;             // GUARDED_BY(mu_)
  std::atomic<std::size_t> open_streams_{0};
  std::atomic<std::uint16_t> port_{0};
  std::atomic<std::uint16_t> metrics_port_{0};

  // Destroyed in reverse order: acceptors, then the io_context (which destroys any coroutine
  // frame still suspended; their guards use the members above), then the TLS context.
  std::optional<asio::ssl::context> ssl_;
  asio::io_context ioc_;
  asio::strand<asio::io_context::executor_type> accept_strand_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  tcp::acceptor metrics_acceptor_;
  std::vector<std::thread> threads_;
};

namespace {

template <class Stream>
constexpr bool is_tls_v = std::is_same_v<Stream, TlsStream>;

template <class Stream>
class Session final : public SessionBase {
 public:
  Session(ServerCore& server, Stream stream, bool metrics_only, std::string remote)
      : server_(server),
        opts_(server.options()),
        stream_(std::move(stream)),
        ex_(stream_.get_executor()),
        metrics_only_(metrics_only),
        remote_(std::move(remote)),
        reply_timer_(ex_),
        sse_timer_(ex_) {}

  const asio::any_io_executor& executor() const { return ex_; }

  void notify_stop(bool force) override {
    asio::post(ex_, [weak = weak_from_this(), force] {
      if (auto self = weak.lock()) std::static_pointer_cast<Session>(self)->on_stop(force);
    });
  }

  static asio::awaitable<void> run(std::shared_ptr<Session> self) {
    co_await self->serve();
  }

 private:
  enum class Phase { handshake, idle, header, body, handler, writing, streaming, closing };

  // Deregisters the session and abandons its pending reply, however the coroutine ends.
  struct ExitGuard {
    Session& s;
    ~ExitGuard() {
      if (s.slot_) s.slot_->abandon();
      if (s.sse_) EventStreamAccess::detach(*s.sse_);
      s.server_.deregister(&s);
    }
  };

  // Per-request bookkeeping for metrics and the access log.
  struct Exchange {
    std::string method;
    std::string path;
    std::string route;
    Router::Match match;
    Clock::time_point start = Clock::now();
    std::size_t request_body_bytes = 0;
  };

  auto& lowest() { return beast::get_lowest_layer(stream_); }

  void close_socket() {
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().close();
  }

  // On the strand.
  void on_stop(bool force) {
    stop_requested_ = true;
    if (force) force_stop_ = true;
    switch (phase_) {
      case Phase::handshake:
      case Phase::idle:
      case Phase::header:
      case Phase::closing:
        close_socket();
        break;
      case Phase::body:
      case Phase::handler:
      case Phase::writing:
        if (force) {
          close_socket();
          reply_timer_.cancel();
        }
        break;
      case Phase::streaming:
        sse_timer_.cancel();
        if (force) close_socket();
        break;
    }
  }

  // On the strand: events arrived, the stream closed or overflowed.
  void on_stream_wake() {
    // The writer is either in a write or waiting on the keepalive timer: wake it from both.
    if (sse_ && EventStreamAccess::overflowed(*sse_))
      close_socket();  // the client may be stuck in a write: cut it off now
    sse_timer_.cancel();
  }

  asio::awaitable<void> serve() {
    ExitGuard guard{*this};
    try {
      co_await serve_requests();
    } catch (const std::exception& e) {
      server_.log(LogLevel::error, "connection " + remote_ + ": " + e.what());
    }
    co_await close();
  }

  asio::awaitable<void> serve_requests() {
    if constexpr (is_tls_v<Stream>) {
      phase_ = Phase::handshake;
      if (stop_requested_) co_return;
      lowest().expires_after(opts_.header_timeout);
      auto hs = co_await stream_.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
      if (std::get<0>(hs)) {
        server_.log(LogLevel::debug,
                    "connection " + remote_ + ": TLS handshake: " + std::get<0>(hs).message());
        co_return;
      }
    }
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      if (stop_requested_) co_return;
      // Wait for the first byte of the next request: the idle keep-alive timeout, or the header
      // timeout for the first request of a connection.
      if (buffer.size() == 0) {
        phase_ = Phase::idle;
        lowest().expires_after(first ? opts_.header_timeout : opts_.idle_timeout);
        auto rd = co_await stream_.async_read_some(buffer.prepare(4096), tuple_awaitable);
        if (std::get<0>(rd)) co_return;  // closed, timed out or stopping
        buffer.commit(std::get<1>(rd));
      }
      first = false;
      if (stop_requested_) co_return;

      phase_ = Phase::header;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(
          std::min<std::size_t>(opts_.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
      parser.body_limit(opts_.max_body_bytes);
      lowest().expires_after(opts_.header_timeout);
      auto hd = co_await bhttp::async_read_header(stream_, buffer, parser, tuple_awaitable);
      Exchange ex;
      if (const auto ec = std::get<0>(hd)) {
        co_await answer_read_error(ec, ex, parser);
        co_return;
      }
      ex.start = Clock::now();
      ex.method = std::string(parser.get().method_string());
      {
        const auto target = parser.get().target();
        const auto q = target.find('?');
        ex.match = server_.router(metrics_only_)
                       .match(ex.method, std::string_view(target.data(), std::min(q, target.size())));
        ex.path = ex.match.kind == Router::Match::Kind::bad_request ? std::string(target)
                                                                    : ex.match.decoded_path;
        ex.route = ex.match.route;
      }

      const auto length = parser.content_length();
      if (length && *length > opts_.max_body_bytes) {
        co_await answer_error(413, "request body over " + std::to_string(opts_.max_body_bytes) +
                                       " bytes",
                              ex);
        co_await linger();
        co_return;
      }
      if (!parser.is_done()) {
        if (iequals(parser.get()[bhttp::field::expect], "100-continue")) {
          static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
          lowest().expires_after(opts_.write_timeout);
          auto wr = co_await asio::async_write(stream_, asio::buffer(cont.data(), cont.size()),
                                               tuple_awaitable);
          if (std::get<0>(wr)) co_return;
        }
        phase_ = Phase::body;
        lowest().expires_after(opts_.body_timeout);
        auto bd = co_await bhttp::async_read(stream_, buffer, parser, tuple_awaitable);
        if (const auto ec = std::get<0>(bd)) {
          if (ec == bhttp::error::body_limit) {
            co_await answer_error(413, "request body over " +
                                           std::to_string(opts_.max_body_bytes) + " bytes",
                                  ex);
            co_await linger();
          } else if (is_parse_error(ec)) {
            co_await answer_error(400, "malformed request body: " + ec.message(), ex);
            co_await linger();
          }
          co_return;
        }
      }

      auto message = parser.release();
      const bool keep_alive = message.keep_alive();
      const bool ok = co_await handle(std::move(message), ex, keep_alive);
      if (!ok || !keep_alive || stop_requested_ || phase_ == Phase::streaming) co_return;
    }
  }

  // A failed header read: answer what deserves an answer, then the caller closes.
  asio::awaitable<void> answer_read_error(const beast::error_code& ec, Exchange& ex,
                                          bhttp::request_parser<bhttp::string_body>& parser) {
    if (ec == bhttp::error::header_limit) {
      co_await answer_error(431, "request header over " +
                                     std::to_string(opts_.max_header_bytes) + " bytes",
                            ex);
      co_await linger();
    } else if (ec == bhttp::error::body_limit) {
      ex.method = std::string(parser.get().method_string());
      co_await answer_error(413, "request body over " + std::to_string(opts_.max_body_bytes) +
                                     " bytes",
                            ex);
      co_await linger();
    } else if (is_parse_error(ec)) {
      co_await answer_error(400, "malformed request: " + ec.message(), ex);
      co_await linger();
    } else if (ec == beast::error::timeout) {
      server_.log(LogLevel::debug, "connection " + remote_ + ": request header timed out");
    }
  }

  // Routes and answers one request. Returns false when the connection must close.
  asio::awaitable<bool> handle(bhttp::request<bhttp::string_body>&& message, Exchange& ex,
                               bool keep_alive) {
    Request req;
    req.method = ex.method;
    req.target = std::string(message.target());
    const auto q = req.target.find('?');
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (auto& c : name) c = ascii_lower(c);
      auto emplaced = req.headers.try_emplace(std::move(name), std::string(field.value()));
      if (!emplaced.second) {
        emplaced.first->second += ", ";
        emplaced.first->second += field.value();
      }
    }
    req.body = std::move(message.body());
    req.remote = remote_;
    ex.request_body_bytes = req.body.size();
    const bool head = req.method == "HEAD";
    const unsigned version = message.version();

    auto& match = ex.match;
    Response resp;
    std::optional<StringMap> query;
    if (q != std::string::npos) {
      query = parse_query(std::string_view(req.target).substr(q + 1));
    } else {
      query.emplace();
    }
    if (match.kind == Router::Match::Kind::bad_request) {
      resp = Response::error(400, "malformed path");
    } else if (!query) {
      resp = Response::error(400, "malformed query string");
    } else if (match.kind == Router::Match::Kind::not_found) {
      resp = Response::error(404, "not found");
    } else if (match.kind == Router::Match::Kind::method_not_allowed) {
      resp = Response::error(405, "method " + req.method + " not allowed");
      resp.headers.emplace_back("Allow", match.allow);
    } else {
      req.path = std::move(match.decoded_path);
      req.query = std::move(*query);
      req.route = match.route;
      resp = co_await call_handler(*match.handler, std::move(req), std::move(match.params));
      if (force_stop_) co_return false;
    }

    if (resp.stream) {
      co_await stream_events(std::move(resp), ex, version);
      co_return false;
    }
    co_return co_await write_response(std::move(resp), ex, version, head,
                                      keep_alive && !stop_requested_);
  }

  // Invokes the handler and waits, on the strand, for its Reply (from any thread).
  asio::awaitable<Response> call_handler(const Handler& handler, Request&& req,
                                         PathParams&& params) {
    phase_ = Phase::handler;
    slot_ = std::make_shared<ReplySlot>();
    {
      std::lock_guard lock(slot_->mu);
      slot_->wake = [ex = ex_, weak = weak_from_this()] {
        asio::post(ex, [weak] {
          if (auto self = weak.lock()) std::static_pointer_cast<Session>(self)->reply_timer_.cancel();
        });
      };
    }
    const std::string route = req.route;
    try {
      auto handle_ptr = std::make_shared<ReplyHandle>(slot_);
      handler(std::move(req), std::move(params),
              [h = std::move(handle_ptr)](Response r) { h->slot->deliver(std::move(r)); });
    } catch (const std::exception& e) {
      server_.log(LogLevel::error, "handler for " + route + " threw: " + e.what());
      slot_->deliver(Response::error(500, "internal error"));
    } catch (...) {
      server_.log(LogLevel::error, "handler for " + route + " threw a non-exception");
      slot_->deliver(Response::error(500, "internal error"));
    }

    reply_timer_.expires_after(opts_.handler_timeout);
    std::optional<Response> result;
    for (;;) {
      {
        std::lock_guard lock(slot_->mu);
        if (slot_->response) {
          result = std::move(slot_->response);
          slot_->abandoned = true;  // later calls are ignored
          slot_->wake = nullptr;
          break;
        }
        slot_->waiting = true;
      }
      auto w = co_await reply_timer_.async_wait(tuple_awaitable);
      {
        std::lock_guard lock(slot_->mu);
        slot_->waiting = false;
      }
      if (force_stop_) {
        slot_->abandon();
        result = Response::error(503, "server stopping");
        break;
      }
      if (!std::get<0>(w)) {  // the timer expired
        {
          std::lock_guard lock(slot_->mu);
          if (slot_->response) continue;  // arrived just now: take it on the next turn
          slot_->abandoned = true;
          slot_->wake = nullptr;
        }
        // Hooks are never called with an internal lock held.
        server_.log(LogLevel::warn, "handler for " + route + " did not reply within " +
                                        std::to_string(opts_.handler_timeout.count()) + " ms");
        result = Response::error(503, "the request timed out");
        break;
      }
    }
    slot_.reset();
    co_return std::move(*result);
  }

  asio::awaitable<bool> write_response(Response resp, Exchange& ex, unsigned version, bool head,
                                       bool keep_alive) {
    phase_ = Phase::writing;
    if (resp.status < 200 || resp.status > 599) {
      server_.log(LogLevel::error, "handler for " + ex.route + " answered status " +
                                       std::to_string(resp.status));
      resp = Response::error(500, "invalid response status");
    }
    bhttp::response<bhttp::string_body> res;
    res.version(version == 10 ? 10 : 11);
    res.result(static_cast<unsigned>(resp.status));
    const bool no_body = resp.status == 204 || resp.status == 304;
    if (!resp.content_type.empty() && !no_body && !has_crlf(resp.content_type)) {
      res.set(bhttp::field::content_type, resp.content_type);
    }
    for (const auto& h : resp.headers) {
      if (h.first.empty() || has_crlf(h.first) || has_crlf(h.second) || reserved_header(h.first)) {
        server_.log(LogLevel::warn, "handler for " + ex.route + ": header \"" + h.first +
                                        "\" dropped (invalid or reserved)");
        continue;
      }
      res.insert(h.first, h.second);
    }
    res.keep_alive(keep_alive);
    if (no_body) resp.body.clear();
    res.body() = std::move(resp.body);
    res.prepare_payload();
    const std::size_t body_bytes = res.body().size();

    lowest().expires_after(opts_.write_timeout);
    beast::error_code ec;
    if (head) {
      bhttp::response_serializer<bhttp::string_body> serializer{res};
      auto wr = co_await bhttp::async_write_header(stream_, serializer, tuple_awaitable);
      ec = std::get<0>(wr);
    } else {
      auto wr = co_await bhttp::async_write(stream_, res, tuple_awaitable);
      ec = std::get<0>(wr);
    }
    finish(ex, resp.status, head ? 0 : body_bytes);
    co_return !ec;
  }

  // An answer to a request that is not handled (400, 413, 431): always closes afterwards.
  asio::awaitable<void> answer_error(int status, const std::string& message, Exchange& ex) {
    (void)co_await write_response(Response::error(status, message), ex, 11, false, false);
  }

  void finish(const Exchange& ex, int status, std::size_t response_body_bytes) {
    const double latency_s = std::chrono::duration<double>(Clock::now() - ex.start).count();
    server_.record(ex.method, ex.route, status, latency_s);
    AccessLogEntry entry;
    entry.method = ex.method;
    entry.path = ex.path;
    entry.route = ex.route;
    entry.remote = remote_;
    entry.status = status;
    entry.latency_s = latency_s;
    entry.request_body_bytes = ex.request_body_bytes;
    entry.response_body_bytes = response_body_bytes;
    entry.tls = is_tls_v<Stream>;
    server_.access_log(entry);
  }

  // Server-Sent Events until the stream closes, the client goes or the server stops.
  asio::awaitable<void> stream_events(Response resp, Exchange& ex, unsigned version) {
    phase_ = Phase::streaming;
    sse_ = std::move(resp.stream);
    server_.stream_opened();
    std::string head = version == 10 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n";
    head +=
        "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n"
        "X-Accel-Buffering: no\r\n";
    for (const auto& h : resp.headers) {
      if (h.first.empty() || has_crlf(h.first) || has_crlf(h.second) || reserved_header(h.first) ||
          iequals(h.first, "content-type")) {
        continue;
      }
      head += h.first + ": " + h.second + "\r\n";
    }
    head += "\r\n";
    lowest().expires_after(opts_.write_timeout);
    auto wr = co_await asio::async_write(stream_, asio::buffer(head), tuple_awaitable);
    finish(ex, 200, 0);
    if (!std::get<0>(wr)) {
      EventStreamAccess::attach(*sse_, [ex_copy = ex_, weak = weak_from_this()] {
        asio::post(ex_copy, [weak] {
          if (auto self = weak.lock()) std::static_pointer_cast<Session>(self)->on_stream_wake();
        });
      });
      static constexpr std::string_view keepalive = ": keepalive\n\n";
      while (!stop_requested_) {
        auto batch = EventStreamAccess::take(*sse_);
        if (batch.overflowed) break;
        if (!batch.frames.empty()) {
          lowest().expires_after(opts_.write_timeout);
          auto w = co_await asio::async_write(stream_, asio::buffer(batch.frames), tuple_awaitable);
          if (std::get<0>(w)) break;
          continue;
        }
        if (batch.closed) break;
        sse_timer_.expires_after(opts_.sse_keepalive);
        auto t = co_await sse_timer_.async_wait(tuple_awaitable);
        if (!std::get<0>(t)) {
          lowest().expires_after(opts_.write_timeout);
          auto w = co_await asio::async_write(stream_,
                                              asio::buffer(keepalive.data(), keepalive.size()),
                                              tuple_awaitable);
          if (std::get<0>(w)) break;
        }
      }
    }
    const bool overflowed = EventStreamAccess::overflowed(*sse_);
    if (overflowed) {
      server_.log(LogLevel::warn, "event stream client " + remote_ + " on " + ex.path +
                                      " dropped: it fell behind by more than the queue limit");
    }
    EventStreamAccess::detach(*sse_);
    sse_.reset();
    server_.stream_closed(overflowed);
  }

  // Reads and discards what the client still sends (bounded), after a half-close.
  asio::awaitable<void> linger() {
    if constexpr (!is_tls_v<Stream>) {
      if (stop_requested_ || !lowest().socket().is_open()) co_return;
      phase_ = Phase::closing;
      beast::error_code ec;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      lowest().expires_after(linger_time);
      std::array<char, 16384> sink{};
      std::size_t total = 0;
      while (total < linger_bytes && !stop_requested_) {
        auto rd = co_await lowest().async_read_some(asio::buffer(sink), tuple_awaitable);
        if (std::get<0>(rd)) break;
        total += std::get<1>(rd);
      }
    }
    co_return;
  }

  asio::awaitable<void> close() {
    phase_ = Phase::closing;
    if constexpr (is_tls_v<Stream>) {
      if (!force_stop_ && lowest().socket().is_open()) {
        lowest().expires_after(tls_shutdown_time);
        (void)co_await stream_.async_shutdown(tuple_awaitable);
      }
    }
    close_socket();
  }

  ServerCore& server_;
  const ServerOptions& opts_;
  Stream stream_;
  asio::any_io_executor ex_;  // the connection's strand
  const bool metrics_only_;
  const std::string remote_;
  asio::steady_timer reply_timer_;
  asio::steady_timer sse_timer_;

  // Only touched on the strand.
  Phase phase_ = Phase::idle;
  bool stop_requested_ = false;
  bool force_stop_ = false;
  std::shared_ptr<ReplySlot> slot_;
  std::shared_ptr<EventStream> sse_;
};

}  // namespace

// ---- ServerCore -------------------------------------------------------------------------

ServerCore::ServerCore(ServerOptions options, Router router)
    : opts_(std::move(options)),
      router_(std::move(router)),
      metrics_(opts_.metrics ? opts_.metrics : std::make_shared<MetricsRegistry>()),
      ioc_(static_cast<int>(std::max(1u, opts_.io_threads))),
      accept_strand_(asio::make_strand(ioc_)),
      acceptor_(accept_strand_),
      metrics_acceptor_(accept_strand_) {
  if (!opts_.log) {
    opts_.log = [](LogLevel level, std::string_view message) {
      if (level == LogLevel::warn || level == LogLevel::error) {
        std::fprintf(stderr, "vigil http %s: %.*s\n", level == LogLevel::warn ? "warning" : "error",
                     static_cast<int>(message.size()), message.data());
      }
    };
  }
  requests_total_ = &metrics_->counter("vigil_http_requests_total",
                                       "HTTP requests answered, by method, route pattern and status.",
                                       {"method", "route", "status"});
  request_duration_ = &metrics_->histogram(
      "vigil_http_request_duration_seconds",
      "Time from the end of the request header to the response written, by route pattern.",
      MetricsRegistry::latency_buckets_s(), {"route"});
  connections_gauge_ = &metrics_->gauge("vigil_http_connections", "Open HTTP connections.").get();
  streams_gauge_ =
      &metrics_->gauge("vigil_http_event_streams", "Open Server-Sent Events streams.").get();
  sse_dropped_ = &metrics_
                      ->counter("vigil_http_event_stream_drops_total",
                                "Event stream clients dropped because they fell too far behind.")
                      .get();
  metrics_router_.add("GET", "/metrics", metrics_handler(metrics_));
}

ServerCore::~ServerCore() { stop(); }

void ServerCore::log(LogLevel level, std::string_view message) const {
  try {
    opts_.log(level, message);
  } catch (...) {  // a logging hook must not take a connection down
  }
}

void ServerCore::access_log(const AccessLogEntry& entry) const {
  if (!opts_.access_log) return;
  try {
    opts_.access_log(entry);
  } catch (...) {
  }
}

void ServerCore::record(std::string_view method, std::string_view route, int status,
                              double latency_s) {
  const std::string route_label = route.empty() ? std::string("(unmatched)") : std::string(route);
  requests_total_->with({method_label(method), route_label, std::to_string(status)}).inc();
  request_duration_->with({route_label}).observe(latency_s);
}

void ServerCore::deregister(SessionBase* s) {
  std::lock_guard lock(mu_);
  if (sessions_.erase(s) > 0) {
    connections_gauge_->dec();
    cv_.notify_all();
  }
}

void ServerCore::on_coroutine_exit(std::exception_ptr e, const char* what) const {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log(LogLevel::error, std::string(what) + ": " + ex.what());
  } catch (...) {
    log(LogLevel::error, std::string(what) + ": unknown exception");
  }
}

Result<void> ServerCore::listen(tcp::acceptor& acceptor, const std::string& address,
                                      std::uint16_t port,
                                      std::atomic<std::uint16_t>& bound_port) {
  const std::string where = address + ":" + std::to_string(port);
  beast::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) return vigil::unexpected(Error{where, "not an IP address: " + ec.message()});
  const tcp::endpoint endpoint(ip, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return vigil::unexpected(Error{where, "cannot listen: " + ec.message()});
  }
  bound_port = acceptor.local_endpoint(ec).port();
  return {};
}

Result<void> ServerCore::start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return vigil::unexpected(Error{"", "the server was already started"});
    started_ = true;
  }
  if (!opts_.tls_cert_file.empty() || !opts_.tls_key_file.empty()) {
    if (opts_.tls_cert_file.empty() || opts_.tls_key_file.empty()) {
      return vigil::unexpected(
          Error{"tls", "both tls_cert_file and tls_key_file are needed for TLS"});
    }
    ssl_.emplace(asio::ssl::context::tls_server);
    beast::error_code ec;
    ssl_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                      ec);
    ssl_->use_certificate_chain_file(opts_.tls_cert_file, ec);
    if (ec) return vigil::unexpected(Error{opts_.tls_cert_file, "TLS certificate: " + ec.message()});
    ssl_->use_private_key_file(opts_.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) return vigil::unexpected(Error{opts_.tls_key_file, "TLS private key: " + ec.message()});
  }
  if (auto r = listen(acceptor_, opts_.address, opts_.port, port_); !r) return r;
  if (opts_.metrics_port) {
    if (auto r = listen(metrics_acceptor_, opts_.metrics_address, *opts_.metrics_port,
                        metrics_port_);
        !r) {
      beast::error_code ignored;
      acceptor_.close(ignored);
      return r;
    }
  }

  work_.emplace(ioc_.get_executor());
  asio::co_spawn(accept_strand_, accept_loop(acceptor_, false),
                 [this](std::exception_ptr e) { on_coroutine_exit(e, "accept loop"); });
  if (opts_.metrics_port) {
    asio::co_spawn(accept_strand_, accept_loop(metrics_acceptor_, true),
                   [this](std::exception_ptr e) { on_coroutine_exit(e, "metrics accept loop"); });
  }
  const unsigned n = std::max(1u, opts_.io_threads);
  threads_.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          log(LogLevel::error, std::string("I/O thread: ") + e.what());
        }
      }
    });
  }
  return {};
}

asio::awaitable<void> ServerCore::accept_loop(tcp::acceptor& acceptor, bool metrics_only) {
  asio::steady_timer backoff(accept_strand_);
  for (;;) {
    asio::any_io_executor session_ex = asio::make_strand(ioc_);
    auto r = co_await acceptor.async_accept(session_ex, tuple_awaitable);
    const auto ec = std::get<0>(r);
    if (ec) {
      if (!acceptor.is_open() || ec == asio::error::operation_aborted) co_return;
      log(LogLevel::warn, "accept: " + ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));  // e.g. out of file descriptors
      (void)co_await backoff.async_wait(tuple_awaitable);
      continue;
    }
    spawn_session(std::move(std::get<1>(r)), metrics_only);
  }
}

void ServerCore::spawn_session(tcp::socket socket, bool metrics_only) {
  beast::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  socket.set_option(tcp::no_delay(true), ec);
  const std::string remote = format_remote(peer);
  const auto executor = socket.get_executor();

  std::shared_ptr<SessionBase> session;
  std::function<asio::awaitable<void>()> make_run;
  if (ssl_ && !metrics_only) {
    auto s = std::make_shared<Session<TlsStream>>(
        *this, TlsStream(beast::tcp_stream(std::move(socket)), *ssl_), false, remote);
    make_run = [s] { return Session<TlsStream>::run(s); };
    session = std::move(s);
  } else {
    auto s = std::make_shared<Session<PlainStream>>(*this, PlainStream(std::move(socket)),
                                                    metrics_only, remote);
    make_run = [s] { return Session<PlainStream>::run(s); };
    session = std::move(s);
  }
  bool full = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;  // the session (and socket) is destroyed here
    full = sessions_.size() >= opts_.max_connections;
    if (!full) {
      sessions_.insert(session.get());
      connections_gauge_->inc();
    }
  }
  if (full) {
    log(LogLevel::warn, "connection from " + remote + " refused: " +
                            std::to_string(opts_.max_connections) + " connections open");
    return;
  }
  asio::co_spawn(executor, make_run(),
                 [this](std::exception_ptr e) { on_coroutine_exit(e, "connection"); });
}

bool ServerCore::on_io_thread() const {
  const auto me = std::this_thread::get_id();
  return std::any_of(threads_.begin(), threads_.end(),
                     [&](const std::thread& t) { return t.get_id() == me; });
}

void ServerCore::stop() {
  std::unique_lock lock(mu_);
  if (!started_ || stopped_) return;
  if (on_io_thread()) {
    lock.unlock();
    log(LogLevel::error, "HttpServer::stop() called from an I/O thread; ignored");
    return;
  }
  stopped_ = true;
  stopping_ = true;
  lock.unlock();

  // 1. Stop accepting.
  asio::post(accept_strand_, [this] {
    beast::error_code ec;
    acceptor_.close(ec);
    metrics_acceptor_.close(ec);
  });
  // 2. Idle connections close, streams end, in-flight requests go on until the grace period ends.
  lock.lock();
  for (auto* s : sessions_) s->notify_stop(false);
  const auto deadline = Clock::now() + opts_.shutdown_grace;
  bool all_closed = cv_.wait_until(lock, deadline, [this] { return sessions_.empty(); });
  if (!all_closed) {
    const auto busy = sessions_.size();
    lock.unlock();  // hooks are never called with an internal lock held
    log(LogLevel::warn, std::to_string(busy) +
                            " connections still busy after the shutdown grace period; closing");
    lock.lock();
    for (auto* s : sessions_) s->notify_stop(true);
    all_closed = cv_.wait_for(lock, force_stop_time, [this] { return sessions_.empty(); });
  }
  lock.unlock();
  // 3. The I/O threads return once the accept loops have ended; a connection that ignored even
  //    the forced close is abandoned (its coroutine frame is destroyed with the io_context).
  work_.reset();
  if (!all_closed) ioc_.stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

// ---- HttpServer -------------------------------------------------------------------------------

HttpServer::HttpServer(ServerOptions options, Router router)
    : impl_(std::make_unique<ServerCore>(std::move(options), std::move(router))) {}

HttpServer::~HttpServer() = default;

Result<void> HttpServer::start() { return impl_->start(); }
void HttpServer::stop() { impl_->stop(); }
std::uint16_t HttpServer::port() const { return impl_->port(); }
std::uint16_t HttpServer::metrics_port() const { return impl_->metrics_port(); }
MetricsRegistry& HttpServer::metrics() { return impl_->metrics(); }
std::size_t HttpServer::open_connections() const { return impl_->open_connections(); }
std::size_t HttpServer::open_streams() const { return impl_->open_streams(); }

}  // namespace vigil::server
