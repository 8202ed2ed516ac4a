// SPDX-License-Identifier: Apache-2.0
#include "store/sqlite_db.hpp"

#include <sqlite3.h>

#include <utility>

namespace vigil::store::sqlite {
namespace {

// SQLITE_TRANSIENT without its old-style cast: SQLite copies the bound text.
sqlite3_destructor_type transient() {
  return reinterpret_cast<sqlite3_destructor_type>(static_cast<std::intptr_t>(-1));
}

}  // namespace

Query::Query(Query&& other) noexcept : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

Query::~Query() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Query& Query::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Query& Query::bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);  // NaN binds as NULL
  return *this;
}
Query& Query::bind(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.data(), v.size(), transient(), SQLITE_UTF8);
  return *this;
}
Query& Query::bind_static(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.data(), v.size(), nullptr, SQLITE_UTF8);
  return *this;
}
Query& Query::bind(int i, const std::optional<std::string>& v) {
  return v ? bind(i, std::string_view(*v)) : bind_null(i);
}
Query& Query::bind(int i, const std::optional<std::int64_t>& v) {
  return v ? bind(i, *v) : bind_null(i);
}
Query& Query::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> Query::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e{"", std::string(sqlite3_errmsg(db_))};
  sqlite3_reset(stmt_);
  return unexpected(std::move(e));
}

Result<void> Query::run() {
  for (;;) {
    auto r = step();
    if (!r) return unexpected(r.error());
    if (!*r) return {};
  }
}

void Query::reset() { sqlite3_reset(stmt_); }

bool Query::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::int64_t Query::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Query::real(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Query::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}
std::optional<std::string> Query::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}
std::optional<std::int64_t> Query::opt_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}
int Query::changes() const { return sqlite3_changes(db_); }

Result<std::unique_ptr<Db>> Db::open(const std::filesystem::path& file, int busy_timeout_ms,
                                     bool read_only) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Db> db(new Db(raw, file));
  if (rc != SQLITE_OK) {
    return unexpected(Error{file.string(), std::string("cannot open the database: ") +
                                               (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))});
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  // Durability first: every commit is fsynced before it is acknowledged. journal_mode=WAL is
  // persistent in the file; the store sets it once, under the write lock, at open.
  auto r = db->exec(
      "PRAGMA foreign_keys = ON;"
      "PRAGMA synchronous = FULL;"
      "PRAGMA temp_store = MEMORY;");
  if (!r) return unexpected(r.error());
  if (read_only) {
    r = db->exec("PRAGMA query_only = ON;");
    if (!r) return unexpected(r.error());
  }
  return db;
}

Db::~Db() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Result<void> Db::exec(std::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string m = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return unexpected(Error{file_.string(), m});
  }
  return {};
}

Result<Query> Db::query(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      return unexpected(error("cannot prepare \"" + sql + "\""));
    }
    it = statements_.emplace(sql, stmt).first;
  }
  return Query(db_, it->second);
}

Result<std::int64_t> Db::scalar(const std::string& sql) {
  auto q = query(sql);
  if (!q) return unexpected(q.error());
  auto row = q->step();
  if (!row) return unexpected(Error{file_.string(), sql + ": " + row.error().message});
  if (!*row) return unexpected(Error{file_.string(), "no result for " + sql});
  return q->int64(0);
}

bool Db::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Error Db::error(std::string_view what) const {
  return Error{file_.string(), std::string(what) + ": " + sqlite3_errmsg(db_)};
}

}  // namespace vigil::store::sqlite
