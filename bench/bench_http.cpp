// SPDX-License-Identifier: Apache-2.0
// HTTP layer throughput and latency: a trivial GET handler, 1 and 16 concurrent keep-alive
// loopback clients, ~3 s each. Prints requests/s and p50/p99/max latency per client count.
//   build/release/bench/bench_http [--seconds S] [--io-threads N] [--clients 1,16]
// Client and server share the machine: on a 2-core box the figures are a floor, not a ceiling.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "server/http.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using vigil::server::HttpServer;
using vigil::server::PathParams;
using vigil::server::Request;
using vigil::server::Response;
using vigil::server::Router;
using vigil::server::ServerOptions;

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // NOLINTNEXTLINE: the sockets API takes a sockaddr*
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// One keep-alive client: request, full response, repeat until `end`; latencies in ns.
bool run_client(std::uint16_t port, Clock::time_point end, std::vector<std::int64_t>& latencies) {
  const int fd = connect_loopback(port);
  if (fd < 0) return false;
  static constexpr char request[] = "GET /api/v1/ping HTTP/1.1\r\nHost: bench\r\n\r\n";
  std::string buffer;
  char chunk[4096];
  bool ok = true;
  while (ok && Clock::now() < end) {
    const auto t0 = Clock::now();
    if (::send(fd, request, sizeof request - 1, MSG_NOSIGNAL) != sizeof request - 1) break;
    std::size_t header_end;
    std::size_t length = 0;
    for (;;) {
      header_end = buffer.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        const auto cl = buffer.find("Content-Length: ");
        if (cl == std::string::npos || cl > header_end) {
          ok = false;
          break;
        }
        length = std::strtoul(buffer.c_str() + cl + 16, nullptr, 10);
        if (buffer.size() >= header_end + 4 + length) break;
      }
      const auto n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        ok = false;
        break;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    if (!ok) break;
    if (buffer.compare(0, 12, "HTTP/1.1 200") != 0) {
      ok = false;
      break;
    }
    buffer.erase(0, header_end + 4 + length);
    latencies.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0)
                            .count());
  }
  ::close(fd);
  return ok;
}

double percentile_ms(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return static_cast<double>(sorted[index]) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3.0;
  unsigned io_threads = 2;
  std::vector<int> client_counts{1, 16};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--io-threads" && i + 1 < argc) {
      io_threads = static_cast<unsigned>(std::atoi(argv[++i]));
    } else if (arg == "--clients" && i + 1 < argc) {
      client_counts.clear();
      std::string list = argv[++i];
      std::size_t start = 0;
      while (start <= list.size()) {
        const auto comma = list.find(',', start);
        client_counts.push_back(std::atoi(list.substr(start, comma - start).c_str()));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      std::fprintf(stderr, "usage: bench_http [--seconds S] [--io-threads N] [--clients 1,16]\n");
      return 2;
    }
  }

  Router router;
  router.add_sync("GET", "/api/v1/ping", [](const Request&, const PathParams&) {
    return Response::json(200, R"({"ok":true})");
  });
  ServerOptions options;
  options.port = 0;
  options.io_threads = io_threads;
  HttpServer server(options, std::move(router));
  if (auto started = server.start(); !started) {
    std::fprintf(stderr, "bench_http: %s\n", started.error().to_string().c_str());
    return 1;
  }

  std::printf("bench_http: trivial GET, keep-alive loopback clients, %u I/O threads, %.1f s each, "
              "%u cores\n",
              io_threads, seconds, std::thread::hardware_concurrency());
  std::printf("%8s %12s %10s %10s %10s %10s\n", "clients", "requests/s", "p50 ms", "p99 ms",
              "max ms", "requests");
  for (const int clients : client_counts) {
    const auto end =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    const auto t0 = Clock::now();
    std::vector<std::vector<std::int64_t>> per_client(static_cast<std::size_t>(clients));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        if (!run_client(server.port(), end, per_client[static_cast<std::size_t>(c)])) ++failures;
      });
    }
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<std::int64_t> all;
    for (auto& v : per_client) all.insert(all.end(), v.begin(), v.end());
    std::sort(all.begin(), all.end());
    std::printf("%8d %12.0f %10.3f %10.3f %10.3f %10zu%s\n", clients,
                static_cast<double>(all.size()) / elapsed, percentile_ms(all, 0.50),
                percentile_ms(all, 0.99), all.empty() ? 0.0 : static_cast<double>(all.back()) / 1e6,
                all.size(), failures.load() > 0 ? "  (client errors!)" : "");
  }
  server.stop();
  return 0;
}
