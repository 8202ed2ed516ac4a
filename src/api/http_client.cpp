// SPDX-License-Identifier: Apache-2.0
#include "api/http_client.hpp"

#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>

namespace vigil::api {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool wait_fd(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  const int ms = remaining_ms(deadline);
  return ms > 0 && ::poll(&p, 1, ms) == 1;
}

class Socket {
 public:
  ~Socket() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }

  Result<void> connect(const Url& url, Clock::time_point deadline, bool verify) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(url.port);
    if (int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
      return unexpected(Error{url.host, std::string("cannot resolve: ") + ::gai_strerror(rc)});
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
    std::string last_error = "no address";
    for (addrinfo* a = found; a; a = a->ai_next) {
      fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK, a->ai_protocol);
      if (fd_ < 0) continue;
      if (::connect(fd_, a->ai_addr, a->ai_addrlen) == 0 ||
          (errno == EINPROGRESS && wait_fd(fd_, POLLOUT, deadline))) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) break;
        last_error = std::strerror(err);
      } else {
        last_error = errno == EINPROGRESS ? "timed out" : std::strerror(errno);
      }
      ::close(fd_);
      fd_ = -1;
    }
    if (fd_ < 0) {
      return unexpected(Error{fmt::format("{}:{}", url.host, url.port), "cannot connect: " + last_error});
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (url.tls) return handshake(url, deadline, verify);
    return {};
  }

  Result<void> write_all(std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
      long n = 0;
      if (ssl_) {
        n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
        if (n <= 0) {
          if (!retry(SSL_get_error(ssl_, static_cast<int>(n)), deadline)) return io_error("write");
          continue;
        }
      } else {
        n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN && wait_fd(fd_, POLLOUT, deadline)) continue;
          return io_error("write");
        }
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
  }

  // Reads until the peer closes; nullopt content on timeout or error.
  Result<std::string> read_all(Clock::time_point deadline) {
    std::string out;
    char buf[16384];
    for (;;) {
      long n = 0;
      if (ssl_) {
        n = SSL_read(ssl_, buf, sizeof buf);
        if (n <= 0) {
          const int e = SSL_get_error(ssl_, static_cast<int>(n));
          if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL) return out;
          if (!retry(e, deadline)) return unexpected(Error{"", "read failed or timed out"});
          continue;
        }
      } else {
        n = ::recv(fd_, buf, sizeof buf, 0);
        if (n == 0) return out;
        if (n < 0) {
          if (errno == EAGAIN && wait_fd(fd_, POLLIN, deadline)) continue;
          return unexpected(Error{"", errno == EAGAIN ? "timed out waiting for the answer"
                                                      : std::strerror(errno)});
        }
      }
      out.append(buf, static_cast<std::size_t>(n));
      if (out.size() > (16u << 20)) return unexpected(Error{"", "answer larger than 16 MiB"});
    }
  }

 private:
  Result<void> handshake(const Url& url, Clock::time_point deadline, bool verify) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_) return unexpected(Error{"tls", "cannot create a TLS context"});
    if (verify) {
      SSL_CTX_set_default_verify_paths(ctx_);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"  // the OpenSSL macro casts
    SSL_set_tlsext_host_name(ssl_, url.host.c_str());
#pragma GCC diagnostic pop
    if (verify) SSL_set1_host(ssl_, url.host.c_str());
    for (;;) {
      const int rc = SSL_connect(ssl_);
      if (rc == 1) return {};
      if (!retry(SSL_get_error(ssl_, rc), deadline)) {
        const unsigned long e = ERR_get_error();
        char text[256] = "handshake failed or timed out";
        if (e) ERR_error_string_n(e, text, sizeof text);
        return unexpected(Error{url.host, std::string("TLS: ") + text});
      }
    }
  }

  bool retry(int ssl_error, Clock::time_point deadline) {
    if (ssl_error == SSL_ERROR_WANT_READ) return wait_fd(fd_, POLLIN, deadline);
    if (ssl_error == SSL_ERROR_WANT_WRITE) return wait_fd(fd_, POLLOUT, deadline);
    return false;
  }

  static Unexpected<Error> io_error(const char* what) {
    return unexpected(Error{"", std::string(what) + " failed or timed out"});
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

// Decodes a chunked body; nullopt when malformed.
std::optional<std::string> dechunk(std::string_view in) {
  std::string out;
  for (;;) {
    const auto eol = in.find("\r\n");
    if (eol == std::string_view::npos) return std::nullopt;
    std::size_t size = 0;
    const auto [p, ec] = std::from_chars(in.data(), in.data() + eol, size, 16);
    if (ec != std::errc() || p == in.data()) return std::nullopt;
    in.remove_prefix(eol + 2);
    if (size == 0) return out;
    if (in.size() < size + 2) return std::nullopt;
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

}  // namespace

Result<Url> parse_url(std::string_view text) {
  Url url;
  std::string_view rest = text;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    url.tls = true;
    url.port = 443;
  } else {
    return unexpected(Error{std::string(text), "a URL must start with http:// or https://"});
  }
  const auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (url.target.front() == '?') url.target = "/" + url.target;
  if (authority.find('@') != std::string_view::npos) {
    return unexpected(Error{std::string(text), "credentials in the URL are not supported"});
  }
  std::string_view host = authority;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return unexpected(Error{std::string(text), "bad IPv6 host"});
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
  } else {
    const auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (!authority.empty()) {
    if (authority.front() != ':') return unexpected(Error{std::string(text), "bad host"});
    authority.remove_prefix(1);
    int port = 0;
    const auto [p, ec] = std::from_chars(authority.data(), authority.data() + authority.size(), port);
    if (ec != std::errc() || p != authority.data() + authority.size() || port < 1 || port > 65535) {
      return unexpected(Error{std::string(text), "bad port"});
    }
    url.port = port;
  }
  if (host.empty()) return unexpected(Error{std::string(text), "no host"});
  url.host = std::string(host);
  return url;
}

Result<HttpResult> http_request(const std::string& method, const std::string& url_text,
                                const std::string& body, const std::string& content_type,
                                const HttpRequestOptions& options) {
  auto url = parse_url(url_text);
  if (!url) return unexpected(url.error());
  const auto deadline = Clock::now() + options.timeout;
  Socket socket;
  if (auto ok = socket.connect(*url, deadline, options.verify_tls); !ok) {
    return unexpected(ok.error());
  }
  std::string req = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: vigil\r\n"
                                "Connection: close\r\nContent-Length: {}\r\n",
                                method, url->target, url->host, body.size());
  if (!content_type.empty()) req += "Content-Type: " + content_type + "\r\n";
  for (const auto& [name, value] : options.headers) req += name + ": " + value + "\r\n";
  req += "\r\n";
  req += body;
  if (auto ok = socket.write_all(req, deadline); !ok) {
    return unexpected(Error{url_text, ok.error().message});
  }
  auto raw = socket.read_all(deadline);
  if (!raw) return unexpected(Error{url_text, raw.error().message});
  const auto head_end = raw->find("\r\n\r\n");
  if (!raw->starts_with("HTTP/1.") || head_end == std::string::npos || raw->size() < 12) {
    return unexpected(Error{url_text, "malformed HTTP answer"});
  }
  HttpResult result;
  const auto [p, ec] = std::from_chars(raw->data() + 9, raw->data() + 12, result.status);
  if (ec != std::errc()) return unexpected(Error{url_text, "malformed status line"});
  std::string head = raw->substr(0, head_end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  result.body = raw->substr(head_end + 4);
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    auto plain = dechunk(result.body);
    if (!plain) return unexpected(Error{url_text, "malformed chunked body"});
    result.body = std::move(*plain);
  }
  return result;
}

}  // namespace vigil::api
