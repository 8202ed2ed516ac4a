// SPDX-License-Identifier: Apache-2.0
#include "store/sqlite_schema.hpp"

#include <array>
#include <string>

#include "store/store.hpp"

namespace vigil::store::sqlite {
namespace {

// PRAGMA application_id of a Vigil store: "VIGL".
constexpr std::int64_t kApplicationId = 0x5649474C;

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE tokens (
  id            TEXT PRIMARY KEY CHECK (length(id) > 0),
  hash          TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
  role          TEXT NOT NULL CHECK (length(role) > 0),
  venue         TEXT,
  name          TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER
);

CREATE TABLE venues (
  id            TEXT PRIMARY KEY CHECK (length(id) > 0),
  json          TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

CREATE TABLE gatherings (
  id           TEXT PRIMARY KEY CHECK (length(id) > 0),
  venue        TEXT NOT NULL REFERENCES venues (id),
  json         TEXT NOT NULL,
  starts_at_ms INTEGER NOT NULL,
  ends_at_ms   INTEGER NOT NULL,
  CONSTRAINT window_order CHECK (ends_at_ms >= starts_at_ms)
);
CREATE INDEX gatherings_by_venue ON gatherings (venue, starts_at_ms);
CREATE INDEX gatherings_by_start ON gatherings (starts_at_ms);

-- (venue, sensor, seq) identified a reading in version 1 (see version 2).
CREATE TABLE readings (
  venue       TEXT NOT NULL CHECK (length(venue) > 0),
  sensor      TEXT NOT NULL CONSTRAINT sensor_present CHECK (length(sensor) > 0),
  seq         INTEGER NOT NULL CONSTRAINT seq_non_negative CHECK (seq >= 0),
  ts_ms       INTEGER NOT NULL,
  -- Not `kind IN (...)`: SQLite builds a temporary b-tree for an IN list on every insert.
  kind        TEXT NOT NULL CHECK (kind = 'in_out' OR kind = 'count' OR kind = 'density'),
  n_in        INTEGER NOT NULL CONSTRAINT in_non_negative CHECK (n_in >= 0),
  n_out       INTEGER NOT NULL CONSTRAINT out_non_negative CHECK (n_out >= 0),
  n_count     INTEGER NOT NULL CONSTRAINT count_non_negative CHECK (n_count >= 0),
  -- NaN binds as NULL (NOT NULL rejects it); the upper bound rejects +infinity (SQLite reads
  -- the largest double literal as infinity, so the bound is 1e308).
  density     REAL NOT NULL
              CONSTRAINT density_finite CHECK (density >= 0 AND density < 1e308),
  received_ms INTEGER NOT NULL,
  PRIMARY KEY (venue, sensor, seq)
) WITHOUT ROWID;
CREATE INDEX readings_by_time ON readings (venue, ts_ms);

CREATE TABLE alerts (
  id                 TEXT PRIMARY KEY CHECK (length(id) > 0),
  venue              TEXT NOT NULL REFERENCES venues (id),
  rule               TEXT NOT NULL,
  zone               TEXT NOT NULL,
  severity           TEXT NOT NULL,
  state              TEXT NOT NULL,
  since_ms           INTEGER NOT NULL,
  acknowledged_by    TEXT,
  acknowledged_at_ms INTEGER,
  note               TEXT NOT NULL,
  resolved_at_ms     INTEGER,
  escalation_level   INTEGER NOT NULL,
  detail             TEXT NOT NULL
);
CREATE INDEX alerts_by_venue ON alerts (venue, state);
CREATE INDEX alerts_by_state ON alerts (state);

CREATE TABLE kv (
  key           TEXT PRIMARY KEY,
  value         TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

-- The append-only audit log (docs/store.md: the chain format). seq is 1, 2, 3, ... without gaps.
CREATE TABLE audit (
  seq       INTEGER PRIMARY KEY,
  at        TEXT NOT NULL,
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  subject   TEXT NOT NULL,
  venue     TEXT NOT NULL,
  detail    TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
);
CREATE INDEX audit_by_at ON audit (at);
-- Guards against mistakes, not against an attacker (who can drop them): verify_audit and the
-- signed checkpoints are what detect tampering.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE audit_checkpoints (
  seq        INTEGER PRIMARY KEY,
  hash       TEXT NOT NULL,
  at         TEXT NOT NULL,
  signature  TEXT NOT NULL,
  public_key TEXT NOT NULL
);
)sql";

// A sensor that reboots starts its sequence numbers again: (venue, sensor, seq) alone would drop
// every reading after the reboot as a "duplicate" of an old one. The reading's own timestamp joins
// the key; a retry resends the same reading (same seq, same ts) and is still counted once.
constexpr std::string_view kSchemaV2 = R"sql(
CREATE TABLE readings_v2 (
  venue       TEXT NOT NULL CHECK (length(venue) > 0),
  sensor      TEXT NOT NULL CONSTRAINT sensor_present CHECK (length(sensor) > 0),
  seq         INTEGER NOT NULL CONSTRAINT seq_non_negative CHECK (seq >= 0),
  ts_ms       INTEGER NOT NULL,
  kind        TEXT NOT NULL CHECK (kind = 'in_out' OR kind = 'count' OR kind = 'density'),
  n_in        INTEGER NOT NULL CONSTRAINT in_non_negative CHECK (n_in >= 0),
  n_out       INTEGER NOT NULL CONSTRAINT out_non_negative CHECK (n_out >= 0),
  n_count     INTEGER NOT NULL CONSTRAINT count_non_negative CHECK (n_count >= 0),
  density     REAL NOT NULL
              CONSTRAINT density_finite CHECK (density >= 0 AND density < 1e308),
  received_ms INTEGER NOT NULL,
  PRIMARY KEY (venue, sensor, seq, ts_ms)
) WITHOUT ROWID;
INSERT INTO readings_v2 (venue, sensor, seq, ts_ms, kind, n_in, n_out, n_count, density,
                         received_ms)
  SELECT venue, sensor, seq, ts_ms, kind, n_in, n_out, n_count, density, received_ms
  FROM readings;
DROP TABLE readings;
ALTER TABLE readings_v2 RENAME TO readings;
CREATE INDEX readings_by_time ON readings (venue, ts_ms);
)sql";

// The same key in time order: (venue, ts_ms, sensor, seq) is the same set of columns as
// (venue, sensor, seq, ts_ms), so a reading is still stored once, but new readings now land at
// the right edge of their venue's part of the tree. A commit dirties a few adjacent leaves
// instead of one leaf per active sensor, and the replay after a restart (readings of a venue
// since a time, in (ts_ms, sensor, seq) order) is a range of the primary key, so the second
// index on (venue, ts_ms), which every insert paid for, is gone.
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE readings_v3 (
  venue       TEXT NOT NULL CHECK (length(venue) > 0),
  sensor      TEXT NOT NULL CONSTRAINT sensor_present CHECK (length(sensor) > 0),
  seq         INTEGER NOT NULL CONSTRAINT seq_non_negative CHECK (seq >= 0),
  ts_ms       INTEGER NOT NULL,
  kind        TEXT NOT NULL CHECK (kind = 'in_out' OR kind = 'count' OR kind = 'density'),
  n_in        INTEGER NOT NULL CONSTRAINT in_non_negative CHECK (n_in >= 0),
  n_out       INTEGER NOT NULL CONSTRAINT out_non_negative CHECK (n_out >= 0),
  n_count     INTEGER NOT NULL CONSTRAINT count_non_negative CHECK (n_count >= 0),
  density     REAL NOT NULL
              CONSTRAINT density_finite CHECK (density >= 0 AND density < 1e308),
  received_ms INTEGER NOT NULL,
  PRIMARY KEY (venue, ts_ms, sensor, seq)
) WITHOUT ROWID;
INSERT INTO readings_v3 (venue, sensor, seq, ts_ms, kind, n_in, n_out, n_count, density,
                         received_ms)
  SELECT venue, sensor, seq, ts_ms, kind, n_in, n_out, n_count, density, received_ms
  FROM readings ORDER BY venue, ts_ms, sensor, seq;
DROP INDEX readings_by_time;
DROP TABLE readings;
ALTER TABLE readings_v3 RENAME TO readings;
)sql";

// A counter that every change of the tokens table moves (Store::tokens_generation). The server
// caches the principal of each token it has seen and compares this counter on every request:
// triggers move it whoever writes (the server, `vigil token revoke` in another process, the
// sqlite3 shell), so a revoked token is refused on its next request. One row, read by rowid.
constexpr std::string_view kSchemaV4 = R"sql(
CREATE TABLE tokens_generation (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL
);
INSERT INTO tokens_generation (id, generation) VALUES (1, 0);
CREATE TRIGGER tokens_generation_insert AFTER INSERT ON tokens
  BEGIN UPDATE tokens_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER tokens_generation_update AFTER UPDATE ON tokens
  BEGIN UPDATE tokens_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER tokens_generation_delete AFTER DELETE ON tokens
  BEGIN UPDATE tokens_generation SET generation = generation + 1 WHERE id = 1; END;
)sql";

constexpr std::array kMigrations = {
    Migration{1, "tokens, venues, gatherings, readings, alerts, kv, audit log", kSchemaV1},
    Migration{2, "readings keyed by (venue, sensor, seq, ts): sensors may reboot", kSchemaV2},
    Migration{3, "readings keyed in time order (venue, ts, sensor, seq), no time index",
              kSchemaV3},
    Migration{4, "tokens generation: a counter that every change of a token moves", kSchemaV4},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

Result<std::int64_t> schema_version(Db& db) {
  auto exists = db.scalar(
      "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'");
  if (!exists) return unexpected(exists.error());
  if (*exists == 0) return std::int64_t{0};
  return db.scalar("SELECT coalesce(max(version), 0) FROM schema_version");
}

Result<std::int64_t> migrate(Db& db, std::span<const Migration> steps) {
  const std::string where = db.file().string();
  if (auto r = db.exec("BEGIN IMMEDIATE"); !r) return unexpected(r.error());
  auto fail = [&](Error e) -> Result<std::int64_t> {
    (void)db.exec("ROLLBACK");
    return unexpected(std::move(e));
  };

  auto app_id = db.scalar("PRAGMA application_id");
  if (!app_id) return fail(app_id.error());
  auto current = schema_version(db);
  if (!current) return fail(current.error());
  auto tables = db.scalar("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'");
  if (!tables) return fail(tables.error());
  if ((*app_id != 0 && *app_id != kApplicationId) || (*current == 0 && *tables > 0)) {
    return fail(Error{where, "not a Vigil store (the file holds another application's data)"});
  }

  const std::int64_t latest = steps.empty() ? 0 : steps.back().version;
  if (*current > latest) {
    return fail(Error{where, "written by a newer version of Vigil: schema version " +
                                 std::to_string(*current) + ", this build knows versions up to " +
                                 std::to_string(latest) + "; upgrade Vigil to open it"});
  }
  if (*current == latest) {
    (void)db.exec("ROLLBACK");
    return latest;
  }

  if (auto r = db.exec("CREATE TABLE IF NOT EXISTS schema_version ("
                       " version INTEGER PRIMARY KEY, summary TEXT NOT NULL,"
                       " applied_at TEXT NOT NULL)");
      !r) {
    return fail(r.error());
  }
  std::int64_t expected = 1;
  for (const Migration& m : steps) {
    if (m.version != expected++) {
      return fail(
          Error{where, "migration list out of order at version " + std::to_string(m.version)});
    }
    if (m.version <= *current) continue;
    if (auto r = db.exec(m.sql); !r) {
      return fail(Error{where, "migration " + std::to_string(m.version) + " (" +
                                   std::string(m.summary) + ") failed: " + r.error().message});
    }
    auto q = db.query("INSERT INTO schema_version (version, summary, applied_at) VALUES (?, ?, ?)");
    if (!q) return fail(q.error());
    const std::string at = format_rfc3339_ms(now_ms());
    q->bind(1, m.version).bind(2, m.summary).bind(3, std::string_view(at));
    if (auto r = q->run(); !r) return fail(r.error());
  }
  if (auto r = db.exec("PRAGMA application_id = " + std::to_string(kApplicationId)); !r) {
    return fail(r.error());
  }
  if (auto r = db.exec("COMMIT"); !r) return fail(r.error());
  return latest;
}

}  // namespace vigil::store::sqlite
