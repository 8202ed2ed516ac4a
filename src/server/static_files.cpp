// SPDX-License-Identifier: Apache-2.0
// The static file handler for the dashboard (web/): plain C++, no Boost.
#include <array>
#include <fstream>
#include <iterator>
#include <system_error>

#include "server/http.hpp"

namespace vigil::server {

namespace {

constexpr std::uintmax_t max_static_file_bytes = 32u << 20;

struct ContentType {
  std::string_view extension;
  std::string_view type;
};

constexpr std::array<ContentType, 14> content_types{{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
    {".webp", "image/webp"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
}};

std::string_view content_type_for(const std::filesystem::path& file) {
  const std::string ext = file.extension().string();
  for (const auto& ct : content_types) {
    if (ct.extension == ext) return ct.type;
  }
  return {};
}

// True when `inner` is `outer` or lies below it (both canonical).
bool is_within(const std::filesystem::path& outer, const std::filesystem::path& inner) {
  auto o = outer.begin();
  auto i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (i == inner.end() || *o != *i) return false;
  }
  return true;
}

Response not_found() { return Response::error(404, "not found"); }

}  // namespace

Handler static_files(std::filesystem::path root) {
  std::error_code ec;
  auto canonical_root = std::filesystem::weakly_canonical(std::filesystem::absolute(root, ec), ec);
  if (ec) canonical_root = std::move(root);
  return sync_handler([root = std::move(canonical_root)](const Request& req,
                                                         const PathParams& params) -> Response {
    const auto param = params.find("path");
    std::string_view rel = param != params.end() ? std::string_view{param->second}
                                                 : std::string_view{req.path};
    while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);

    std::filesystem::path file = root;
    bool directory = rel.empty();
    std::size_t start = 0;
    while (start < rel.size()) {
      const auto slash = rel.find('/', start);
      const auto segment = rel.substr(start, slash == std::string_view::npos ? rel.npos
                                                                               : slash - start);
      if (segment.empty() && slash != std::string_view::npos) return not_found();  // "a//b"
      if (!segment.empty()) {
        if (segment.front() == '.' || segment.find_first_of(std::string_view("\\\0:", 3)) !=
                                          std::string_view::npos) {
          return not_found();  // ".", "..", hidden files, backslashes, NUL
        }
        file /= std::string(segment);
      }
      if (slash == std::string_view::npos) break;
      start = slash + 1;
      if (start == rel.size()) directory = true;  // trailing '/'
    }

    std::error_code err;
    if (directory || std::filesystem::is_directory(file, err)) file /= "index.html";
    const auto canonical = std::filesystem::canonical(file, err);
    if (err || !is_within(root, canonical) || !std::filesystem::is_regular_file(canonical, err)) {
      return not_found();
    }
    const auto type = content_type_for(canonical);
    if (type.empty()) return not_found();
    const auto size = std::filesystem::file_size(canonical, err);
    if (err || size > max_static_file_bytes) return not_found();

    std::ifstream in(canonical, std::ios::binary);
    if (!in) return not_found();
    std::string body;
    body.resize(static_cast<std::size_t>(size));
    in.read(body.data(), static_cast<std::streamsize>(size));
    if (in.gcount() != static_cast<std::streamsize>(size)) return Response::error(500, "read error");

    Response r = Response::text(200, std::move(body), std::string(type));
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  });
}

}  // namespace vigil::server
