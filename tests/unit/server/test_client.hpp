// SPDX-License-Identifier: Apache-2.0
// A tiny blocking HTTP/1.1 client over POSIX loopback sockets (optionally TLS with OpenSSL), for
// the server tests and the benchmark. Every read has a timeout, so a broken server fails a test
// instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::server::testing {

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

class Connection {
 public:
  // Connects to 127.0.0.1:port; `tls` wraps the socket in a TLS client (no verification).
  explicit Connection(std::uint16_t port, bool tls = false,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000))
      : timeout_(timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // NOLINTNEXTLINE: the sockets API takes a sockaddr*
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (tls) {
      ctx_ = SSL_CTX_new(TLS_client_method());
      ssl_ = SSL_new(ctx_);
      SSL_set_fd(ssl_, fd_);
      if (SSL_connect(ssl_) != 1) {
        ERR_clear_error();
        close();
      }
    }
  }
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  void close() {
    if (ssl_) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (ctx_) {
      SSL_CTX_free(ctx_);
      ctx_ = nullptr;
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  bool send(std::string_view data) {
    while (!data.empty()) {
      long n;
      if (ssl_) {
        n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
        if (n <= 0) return false;
      } else {
        n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads more bytes into the buffer; false on EOF, error or timeout.
  bool fill() {
    if (fd_ < 0) return false;
    char chunk[16384];
    if (!ssl_ || SSL_pending(ssl_) == 0) {
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(timeout_.count()));
      if (r <= 0) {
        timed_out_ = r == 0;
        return false;
      }
    }
    long n;
    if (ssl_) {
      n = SSL_read(ssl_, chunk, sizeof chunk);
    } else {
      n = ::recv(fd_, chunk, sizeof chunk, 0);
    }
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  // True when the server closed the connection (EOF or reset) within the timeout.
  bool closed_by_peer() {
    while (fill()) {
    }
    return !timed_out_;
  }

  // Reads one response. `head`: the response to a HEAD request (no body whatever the length).
  std::optional<HttpResponse> read_response(bool head = false) {
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    HttpResponse r;
    const std::string head_text = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    std::size_t line_end = head_text.find("\r\n");
    const std::string status_line = head_text.substr(0, line_end);
    if (status_line.size() < 12) return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    r.reason = status_line.substr(13 > status_line.size() ? status_line.size() : 13);
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head_text.find("\r\n", start);
      const std::string line = head_text.substr(start, line_end == std::string::npos
                                                           ? std::string::npos
                                                           : line_end - start);
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[name] = value;
    }
    if (r.status / 100 == 1 || head) return r;
    const auto cl = r.headers.find("content-length");
    if (cl != r.headers.end()) {
      const auto length = static_cast<std::size_t>(std::stoull(cl->second));
      while (buffer_.size() < length) {
        if (!fill()) return std::nullopt;
      }
      r.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
    } else if (r.header("content-type") != "text/event-stream") {
      while (fill()) {
      }
      r.body = std::move(buffer_);
      buffer_.clear();
    }
    return r;
  }

  // Reads until `needle` is in the buffer (for event streams); false on EOF or timeout.
  bool read_until(std::string_view needle) {
    while (buffer_.find(needle) == std::string::npos) {
      if (!fill()) return false;
    }
    return true;
  }

  std::string& buffer() { return buffer_; }

  // Sends a request and reads its response on this (keep-alive) connection.
  std::optional<HttpResponse> request(const std::string& method, const std::string& target,
                                      const std::string& body = {},
                                      const std::string& extra_headers = {}) {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers;
    if (!body.empty() || method == "POST" || method == "PUT") {
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n" + body;
    if (!send(req)) return std::nullopt;
    return read_response(method == "HEAD");
  }

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
  bool timed_out_ = false;
};

// One request on a fresh connection.
inline std::optional<HttpResponse> fetch(std::uint16_t port, const std::string& method,
                                         const std::string& target, const std::string& body = {},
                                         const std::string& extra_headers = {}) {
  Connection c(port);
  if (!c.ok()) return std::nullopt;
  return c.request(method, target, body, extra_headers);
}

}  // namespace vigil::server::testing
