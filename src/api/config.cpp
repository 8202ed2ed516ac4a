// SPDX-License-Identifier: Apache-2.0
#include "api/config.hpp"

#include "api/http_client.hpp"
#include "warn/geocode.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <set>
#include <toml++/toml.h>

namespace vigil::api {
namespace {

// Reads typed values from one TOML table, collecting errors and rejecting unknown keys.
class TableReader {
 public:
  // `display`: how errors name the table (`feeds.nws` for a sub-table); defaults to `name`.
  TableReader(const toml::table& root, std::string name, std::vector<Error>& errors,
              std::string display = {})
      : name_(display.empty() ? name : std::move(display)), errors_(errors) {
    const toml::node* node = root.get(name);
    if (!node) return;
    table_ = node->as_table();
    if (!table_) errors_.push_back({name_, "must be a table ([" + name_ + "])"});
  }
  ~TableReader() {
    if (!table_) return;
    for (const auto& [key, value] : *table_) {
      if (!used_.contains(std::string(key.str()))) {
        errors_.push_back({name_ + "." + std::string(key.str()), "unknown option"});
      }
    }
  }
  TableReader(const TableReader&) = delete;
  TableReader& operator=(const TableReader&) = delete;

  void get(const char* key, std::string& out) {
    if (auto* n = node(key)) {
      if (auto v = n->value<std::string>()) out = *v;
      else error(key, "must be a string");
    }
  }
  void get(const char* key, std::filesystem::path& out) {
    std::string s = out.string();
    get(key, s);
    out = s;
  }
  void get(const char* key, bool& out) {
    if (auto* n = node(key)) {
      if (auto v = n->value<bool>()) out = *v;
      else error(key, "must be true or false");
    }
  }
  template <class Int>
    requires std::is_integral_v<Int>
  void get(const char* key, Int& out, std::int64_t min, std::int64_t max) {
    if (auto* n = node(key)) {
      auto v = n->value<std::int64_t>();
      if (!v || *v < min || *v > max) {
        error(key, fmt::format("must be an integer in [{}, {}]", min, max));
      } else {
        out = static_cast<Int>(*v);
      }
    }
  }
  void get(const char* key, double& out, double min, double max) {
    if (auto* n = node(key)) {
      auto v = n->value<double>();
      if (!v || *v < min || *v > max) error(key, fmt::format("must be a number in [{}, {}]", min, max));
      else out = *v;
    }
  }
  void get_ms(const char* key, std::chrono::milliseconds& out) {
    double s = static_cast<double>(out.count()) / 1000.0;
    get(key, s, 0.001, 86400);
    out = std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000.0));
  }
  // Marks `key` as known (read elsewhere).
  void known(const std::string& key) { used_.insert(key); }
  const toml::table* table() const { return table_; }

  void one_of(const char* key, std::string& out, std::initializer_list<const char*> allowed) {
    std::string v = out;
    get(key, v);
    for (const char* a : allowed) {
      if (v == a) {
        out = v;
        return;
      }
    }
    std::string list;
    for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    error(key, "must be one of " + list);
  }

 private:
  const toml::node* node(const char* key) {
    used_.insert(key);
    return table_ ? table_->get(key) : nullptr;
  }
  void error(const char* key, std::string message) {
    errors_.push_back({name_ + "." + key, std::move(message)});
  }

  std::string name_;
  const toml::table* table_ = nullptr;
  std::vector<Error>& errors_;
  std::set<std::string> used_;
};

}  // namespace

Result<void> load_config_file(const std::filesystem::path& file, ServeConfig& c) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    return unexpected(Error{fmt::format("{}:{}:{}", file.string(), e.source().begin.line,
                                        e.source().begin.column),
                            std::string(e.description())});
  }
  std::vector<Error> errors;
  for (const auto& [key, value] : root) {
    static const std::set<std::string> tables = {"server",   "state", "audit", "egress",   "warnings",
                                                 "feeds", "mqtt",  "webhooks", "log"};
    if (!tables.contains(std::string(key.str()))) {
      errors.push_back({std::string(key.str()), "unknown section"});
    }
  }
  {
    TableReader t(root, "server", errors);
    t.get("listen", c.listen);
    t.get("io_threads", c.io_threads, 1, 64);
    t.get("max_body_bytes", c.max_body_bytes, 1024, std::int64_t{1} << 30);
    t.get("tls_cert", c.tls_cert);
    t.get("tls_key", c.tls_key);
    t.get("metrics_listen", c.metrics_listen);
    t.get("web_root", c.web_root);
    t.get_ms("header_timeout_s", c.header_timeout);
    t.get_ms("body_timeout_s", c.body_timeout);
    t.get_ms("idle_timeout_s", c.idle_timeout);
    t.get_ms("shutdown_grace_s", c.shutdown_grace);
  }
  {
    TableReader t(root, "state", errors);
    t.get("replay_hours", c.replay_hours, 0, 24 * 365);
  }
  {
    TableReader t(root, "audit", errors);
    t.get("checkpoint_every", c.checkpoint_every, 0, 1'000'000'000);
    t.get("witness_file", c.witness_file);
    t.get("witness_url", c.witness_url);
    if (!c.witness_url.empty()) {
      if (auto u = parse_url(c.witness_url); !u) errors.push_back({"audit.witness_url", u.error().to_string()});
    }
  }
  {
    TableReader t(root, "warnings", errors);
    t.get("geocode_table", c.geocode_table);
  }
  {
    TableReader t(root, "feeds", errors);
    t.get("drop_dir", c.feeds.drop_dir);
    t.get_ms("drop_interval_s", c.feeds.drop_interval);
    t.get_ms("timeout_s", c.feeds.timeout);
    t.get("remember_entries", c.feeds.remember_entries, 10, 1'000'000);
    if (const toml::table* feeds = t.table()) {
      // Every sub-table is one feed: [feeds.NAME] url = "...", interval_s = 60.
      for (const auto& [key, value] : *feeds) {
        if (!value.is_table()) continue;
        const std::string name(key.str());
        t.known(name);
        FeedSource f;
        f.name = name;
        TableReader ft(*feeds, name, errors, "feeds." + name);
        ft.get("url", f.url);
        ft.get_ms("interval_s", f.interval);
        c.feeds.feeds.push_back(std::move(f));
      }
    }
  }
  if (auto ok = validate(c.feeds); !ok) errors.push_back(ok.error());
  {
    TableReader t(root, "egress", errors);
    t.get("agent", c.agent_egress);
    t.get("agent_interval_s", c.agent_egress_interval_s, 1, 86400);
    t.get("agent_threads", c.agent_threads, 1, 64);
  }
  {
    TableReader t(root, "mqtt", errors);
    t.get("enabled", c.mqtt_enabled);
    t.get("host", c.mqtt.host);
    t.get("port", c.mqtt.port, 1, 65535);
    t.get("client_id", c.mqtt.client_id);
    t.get("username", c.mqtt.username);
    t.get("password", c.mqtt.password);
    t.get("topic_prefix", c.mqtt.topic_prefix);
    t.get("keepalive_s", c.mqtt.keepalive_s, 5, 3600);
  }
  {
    TableReader t(root, "webhooks", errors);
    t.get("max_attempts", c.webhooks.max_attempts, 1, 100);
    t.get_ms("first_backoff_s", c.webhooks.first_backoff);
    t.get_ms("max_backoff_s", c.webhooks.max_backoff);
    t.get_ms("timeout_s", c.webhooks.timeout);
  }
  {
    TableReader t(root, "log", errors);
    t.one_of("level", c.log_level, {"debug", "info", "warn", "error"});
    t.one_of("format", c.log_format, {"text", "json"});
  }
  if (!errors.empty()) {
    std::string all;
    for (const Error& e : errors) all += (all.empty() ? "" : "; ") + e.to_string();
    return unexpected(Error{file.string(), all});
  }
  if (auto l = parse_listen(c.listen); !l) return unexpected(l.error());
  return {};
}

namespace {
// The line where each object of the top-level "geocodes" array starts (a small scan of the
// JSON text: strings skipped, brackets counted), so that errors can name it.
std::vector<int> entry_lines(std::string_view text) {
  std::vector<int> lines;
  int line = 1;
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '\n') ++line;
    if (in_string) {
      if (ch == '\\') ++i;
      else if (ch == '"') in_string = false;
      continue;
    }
    if (ch == '"') in_string = true;
    else if (ch == '{' || ch == '[') {
      if (ch == '{' && depth == 2) lines.push_back(line);
      ++depth;
    } else if (ch == '}' || ch == ']') {
      --depth;
    }
  }
  return lines;
}
}  // namespace

Result<std::shared_ptr<const warn::GeocodeTable>> load_geocode_table(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return unexpected(Error{"warnings.geocode_table", file.string() + ": cannot open the geocode table"});
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 3, column 7: ..."
    std::string what = e.what();
    int line = 1;
    if (auto at = what.find("at line "); at != std::string::npos) line = std::atoi(what.c_str() + at + 8);
    if (auto colon = what.find("] "); colon != std::string::npos) what = what.substr(colon + 2);
    return unexpected(Error{"warnings.geocode_table", fmt::format("{}:{}: not valid JSON: {}", file.string(), line, what)});
  }
  auto table = warn::GeocodeTable::from_json(doc);
  if (!table) {
    const std::vector<int> lines = entry_lines(text);
    std::string all;
    for (const Error& e : table.error()) {
      std::string where = file.string();
      // "geocodes[3]..." names an entry: give its line.
      if (e.where.starts_with("geocodes[")) {
        const std::size_t index = std::strtoul(e.where.c_str() + 9, nullptr, 10);
        if (index < lines.size()) where += ":" + std::to_string(lines[index]);
      }
      all += (all.empty() ? "" : "; ") + where + (e.where.empty() ? "" : ": " + e.where) + ": " + e.message;
    }
    return unexpected(Error{"warnings.geocode_table", all});
  }
  return std::make_shared<const warn::GeocodeTable>(std::move(*table));
}

Result<ListenAddress> parse_listen(std::string_view text) {
  ListenAddress a;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) {
      return unexpected(Error{std::string(text), "expected [IPv6]:PORT"});
    }
    a.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return unexpected(Error{std::string(text), "expected HOST:PORT, e.g. 127.0.0.1:8080"});
    }
    a.host = std::string(text.substr(0, colon));
    if (a.host.empty()) a.host = "0.0.0.0";
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || p != port.data() + port.size() || value > 65535) {
    return unexpected(Error{std::string(text), "the port must be a number in [0, 65535]"});
  }
  a.port = static_cast<std::uint16_t>(value);
  return a;
}

}  // namespace vigil::api
