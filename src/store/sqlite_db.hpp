// SPDX-License-Identifier: Apache-2.0
// A thin layer over one SQLite connection: errors as values, prepared statements cached per
// connection, bindings that name their types. Internal to the SQLite store.
// A Db is used by one thread at a time (connections are opened SQLITE_OPEN_NOMUTEX); the owner
// serialises access (the writer thread, or a lease from the reader pool).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace vigil::store::sqlite {

// One use of a cached prepared statement: bind, step, read columns. Resets the statement and
// clears its bindings when it goes out of scope. Columns and parameters count from 0 and 1
// as in SQLite. Text bound with bind_static must outlive the Query. One statement is cached
// per SQL text: do not hold two Queries of the same SQL on one connection at once.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Query(Query&& other) noexcept;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query& operator=(Query&&) = delete;
  ~Query();

  Query& bind(int i, std::int64_t v);
  Query& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Query& bind(int i, double v);
  Query& bind(int i, std::string_view v);  // copied
  Query& bind(int i, const std::optional<std::string>& v);
  Query& bind(int i, const std::optional<std::int64_t>& v);
  Query& bind_static(int i, std::string_view v);  // not copied
  Query& bind_null(int i);

  // true: a row is ready; false: done. Errors carry SQLite's message.
  Result<bool> step();
  // Steps to completion (statements that return no rows).
  Result<void> run();
  // Resets for another round of bind/step with the same statement (bindings are kept).
  void reset();

  bool is_null(int col) const;
  std::int64_t int64(int col) const;
  double real(int col) const;
  std::string text(int col) const;
  std::optional<std::string> opt_text(int col) const;
  std::optional<std::int64_t> opt_int64(int col) const;

  // Rows changed by the last completed step (sqlite3_changes).
  int changes() const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Db {
 public:
  // read_only: the connection refuses writes (PRAGMA query_only).
  static Result<std::unique_ptr<Db>> open(const std::filesystem::path& file, int busy_timeout_ms,
                                          bool read_only);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Runs one or more statements (no results). Errors name the first statement that failed.
  Result<void> exec(std::string_view sql);
  // A query over the cached statement for `sql` (prepared on first use).
  Result<Query> query(const std::string& sql);
  // exec of a statement whose result is one integer (e.g. PRAGMA user_version).
  Result<std::int64_t> scalar(const std::string& sql);

  bool in_transaction() const;
  sqlite3* handle() const { return db_; }
  Error error(std::string_view what) const;  // "what: SQLite's message"
  const std::filesystem::path& file() const { return file_; }

 private:
  Db(sqlite3* db, std::filesystem::path file) : db_(db), file_(std::move(file)) {}
  sqlite3* db_;
  std::filesystem::path file_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace vigil::store::sqlite
