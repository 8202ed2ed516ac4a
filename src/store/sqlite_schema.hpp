// SPDX-License-Identifier: Apache-2.0
// Versioned schema of the SQLite store. The schema is the ordered list of migrations below;
// a store at version N has had migrations 1..N applied. At open, the missing ones are applied in
// one transaction, and `schema_version` records the result. Never edit a released migration:
// add the next one.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "base/error.hpp"
#include "store/sqlite_db.hpp"

namespace vigil::store::sqlite {

struct Migration {
  std::int64_t version;      // 1, 2, 3, ... in order
  std::string_view summary;  // one line, for people
  std::string_view sql;      // one or more statements
};

// The store's migrations, oldest first.
std::span<const Migration> migrations();

// Brings `db` to the last version of `steps` in one transaction (BEGIN IMMEDIATE): applies the
// steps newer than the stored version. A store at a version newer than the last step is an
// error that says so, and a file that is not a Vigil store (another application_id) too.
// Returns the version the store is at.
Result<std::int64_t> migrate(Db& db, std::span<const Migration> steps);

// The version recorded in `db` (0: a new database).
Result<std::int64_t> schema_version(Db& db);

}  // namespace vigil::store::sqlite
