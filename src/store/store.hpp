// SPDX-License-Identifier: Apache-2.0
// The persistence layer of the operations server: tokens, venues, gatherings, telemetry
// readings, alerts, small configuration blobs and the hash-chained audit log, behind one
// abstract interface (`Store`). Rows only: no HTTP, no domain rules. The embedded
// implementation is SQLite (`open_sqlite_store`); a PostgreSQL implementation for several nodes
// plugs in behind the same interface (docs/store.md).
//
// Thread safety (every implementation):
// - Every method may be called from any thread, concurrently.
// - Writes are serialised: in the SQLite store one writer thread owns the write connection and
//   commits everything pending in one transaction (group commit: one fsync, many callers).
//   Reads use their own connections and see the last committed state.
// - When a write's result is delivered (return of a synchronous method, or the callback of
//   `append_readings`) it has been committed durably (SQLite: WAL with synchronous=FULL), so
//   a `200` may be answered then. A failed write changed nothing.
// - Callbacks run on the writer thread after the commit. They must be short, must not throw,
//   and must not call the writing methods of the same store synchronously (they would wait for
//   the thread running them; such calls fail with an error instead of deadlocking).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace vigil::store {

using TimeMs = std::int64_t;  // milliseconds since the Unix epoch, UTC

// ---- rows -----------------------------------------------------------------------------------

struct TokenRecord {
  std::string id;                    // short random public id, e.g. random_hex(6)
  std::string hash;                  // hex SHA-256 of the secret: sha256_hex(secret)
  std::string role;                  // admin, analyst, operator, viewer, sensor
  std::optional<std::string> venue;  // scope; none: every venue
  std::string name;
  TimeMs created_at_ms = 0;
  std::optional<TimeMs> revoked_at_ms;
};

struct VenueRecord {
  std::string id;
  std::string json;  // the venue file as uploaded
  TimeMs updated_at_ms = 0;
};

struct GatheringRecord {
  std::string id;
  std::string venue;  // must name a stored venue
  std::string json;   // the gathering document
  TimeMs starts_at_ms = 0;
  TimeMs ends_at_ms = 0;  // >= starts_at_ms
};

// Gatherings whose window [starts_at, ends_at] overlaps [from_ms, to_ms]; unset bounds are open.
struct GatheringQuery {
  std::optional<std::string> venue;
  std::optional<TimeMs> from_ms;
  std::optional<TimeMs> to_ms;
};

enum class ReadingKind { in_out, count, density };
std::string_view to_string(ReadingKind kind);
std::optional<ReadingKind> parse_reading_kind(std::string_view text);

// One telemetry reading. (venue, sensor, seq) identifies it: storing it twice stores it once.
// Rejected by the store (the whole batch with it): empty sensor, seq < 0, in/out/count < 0,
// density NaN, infinite or < 0.
struct ReadingRow {
  std::string venue;
  std::string sensor;
  std::int64_t seq = 0;
  TimeMs ts_ms = 0;
  ReadingKind kind = ReadingKind::count;
  std::int64_t in = 0;      // in_out
  std::int64_t out = 0;     // in_out
  std::int64_t count = 0;   // count
  double density_p_m2 = 0;  // density
  TimeMs received_ms = 0;   // 0: set by the store when the batch is written

  friend bool operator==(const ReadingRow&, const ReadingRow&) = default;
};

struct AppendResult {
  std::size_t accepted = 0;          // rows stored by this batch
  std::size_t duplicates = 0;        // rows already stored (or repeated within the batch)
  std::vector<ReadingRow> new_rows;  // the accepted rows, in input order: apply only these
};
using AppendCallback = std::function<void(Result<AppendResult>)>;

struct AlertRecord {
  std::string id;
  std::string venue;  // must name a stored venue
  std::string rule;
  std::string zone;  // empty: the whole venue
  std::string severity;
  std::string state;  // firing, acknowledged, resolved
  TimeMs since_ms = 0;
  std::optional<std::string> acknowledged_by;
  std::optional<TimeMs> acknowledged_at_ms;
  std::string note;
  std::optional<TimeMs> resolved_at_ms;
  int escalation_level = 0;
  std::string detail = "{}";  // JSON text
};

// Alerts by venue and state, oldest first; with `limit`, the newest `limit` of those that began
// before `before_ms` (paging back through history).
struct AlertQuery {
  std::optional<std::string> venue;
  std::optional<std::string> state;
  std::optional<TimeMs> before_ms;  // since_ms < before_ms
  std::size_t limit = 0;            // 0: all

  static AlertQuery of_venue(std::string venue) {
    AlertQuery q;
    q.venue = std::move(venue);
    return q;
  }
};

// One entry of the append-only audit log. The store assigns seq, prev_hash and hash:
//   hash = hex(sha256(prev_hash || canonical entry)), prev_hash of entry 1 = 64 zeros,
// where the canonical entry is the compact JSON with sorted keys of
// {seq, at, actor, action, subject, venue, detail} (store/audit.hpp, docs/store.md).
struct AuditEntry {
  std::int64_t seq = 0;
  std::string at;  // RFC 3339 UTC with milliseconds (2024-05-01T18:30:00.250Z); empty: now
  std::string actor;
  std::string action;
  std::string subject;
  std::string venue;          // empty: not about one venue
  std::string detail = "{}";  // JSON text (stored in canonical form)
  std::string prev_hash;
  std::string hash;
};

// Entries with from_at <= at < to_at (empty: open) and seq > after_seq, by seq; limit 0: all.
struct AuditQuery {
  std::string from_at;
  std::string to_at;
  std::int64_t after_seq = 0;
  std::size_t limit = 0;
};

// A signed statement that the log had `hash` at entry `seq`. The signature (Ed25519, hex) is
// over the compact sorted JSON {"at","hash","seq"}; public_key is the raw key in hex.
struct AuditCheckpoint {
  std::int64_t seq = 0;
  std::string hash;
  std::string at;
  std::string signature;
  std::string public_key;
};

struct AuditVerification {
  bool ok = true;
  std::int64_t entries = 0;      // entries read
  std::int64_t checkpoints = 0;  // checkpoints checked (table and witness file)
  std::optional<std::int64_t> first_bad_seq;
  std::string reason;  // empty when ok
};

// Counters since open, for metrics and benchmarks.
struct StoreStats {
  std::uint64_t commits = 0;          // group transactions committed
  std::uint64_t write_jobs = 0;       // writes committed (reading batches and others)
  std::uint64_t reading_batches = 0;  // reading batches committed
  std::uint64_t readings_accepted = 0;
  std::uint64_t readings_duplicate = 0;
  std::uint64_t failed_jobs = 0;       // writes that failed (a bad batch, a constraint)
  std::uint64_t commit_time_us = 0;    // total time spent in group transactions
  std::uint64_t queued_readings = 0;   // readings waiting for the writer now
  std::uint64_t witness_failures = 0;  // checkpoints that could not be appended to the witness
};

// One group transaction of the writer (StoreOptions::on_commit).
struct CommitInfo {
  double seconds = 0;        // BEGIN to COMMIT (or to the rollback), including the fsync
  std::size_t jobs = 0;      // writes in the group
  std::size_t readings = 0;  // readings in the group
  bool committed = false;
};

struct StoreOptions {
  int busy_timeout_ms = 5000;
  // A signed audit checkpoint every this many entries (0: only on demand and on close).
  std::int64_t checkpoint_every = 1000;
  bool checkpoint_on_close = true;  // sign the head of the log when the store is closed
  // Where checkpoints are also appended as one JSON line each (empty: nowhere). Best kept on
  // another disk or machine; verify_audit reads it when it exists.
  std::filesystem::path witness_file;
  // Back-pressure: append_readings fails at once ("store busy") while this many readings wait.
  std::size_t max_queued_readings = 1'000'000;
  // A group transaction takes at most this many readings (bounds commit latency).
  std::size_t max_group_readings = 50'000;
  // Called on the writer thread after each group transaction, e.g. to feed a commit latency
  // histogram. Must be quick, must not throw and must not call the store.
  std::function<void(const CommitInfo&)> on_commit;
  // tokens_generation() reads the database again after this long even when no store signalled
  // a change of the tokens (bounds how long a change made with the sqlite3 shell goes unseen);
  // 0: read it on every call.
  int tokens_recheck_ms = 1000;
};

// ---- the interface --------------------------------------------------------------------------

class Store {
 public:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  // Waits for pending writes to commit (their callbacks are called) and closes.
  virtual ~Store() = default;

  // Tokens. put_token inserts or replaces by id; revoke_token returns false when no token has
  // that id (revoking twice keeps the first time).
  virtual Result<void> put_token(const TokenRecord& token) = 0;
  virtual Result<std::optional<TokenRecord>> find_token_by_hash(std::string_view hash) = 0;
  virtual Result<std::vector<TokenRecord>> list_tokens() = 0;
  virtual Result<bool> revoke_token(std::string_view id, TimeMs at_ms) = 0;
  // A number that changes whenever the tokens may have changed (a token added, replaced,
  // revoked or deleted), whoever changed them: this store, or another process on the same data
  // (`vigil token revoke --data DIR` beside a running server). The same value twice: the tokens
  // did not change in between. For caches of what tokens grant; cheap enough for every request.
  virtual Result<std::int64_t> tokens_generation() = 0;

  // Venues (insert or replace by id), ordered by id.
  virtual Result<void> put_venue(const VenueRecord& venue) = 0;
  virtual Result<std::optional<VenueRecord>> get_venue(std::string_view id) = 0;
  virtual Result<std::vector<VenueRecord>> list_venues() = 0;

  // Gatherings (insert or replace by id), listed by start time.
  virtual Result<void> put_gathering(const GatheringRecord& gathering) = 0;
  virtual Result<std::optional<GatheringRecord>> get_gathering(std::string_view id) = 0;
  virtual Result<std::vector<GatheringRecord>> list_gatherings(const GatheringQuery& query) = 0;

  // Telemetry. Queues the batch and returns at once; `done` is called exactly once, after the
  // batch is durable, with what was new, or with an error when nothing of the batch was stored
  // (a bad row: `where` is `readings[i]`; a full queue; a failed commit). Rows whose venue is
  // empty take `venue`; a row naming another venue fails the batch.
  virtual void append_readings(std::string venue, std::vector<ReadingRow> rows,
                               AppendCallback done) = 0;
  // The same, waiting for the result. Not from a callback.
  virtual Result<AppendResult> append_readings_sync(std::string venue,
                                                    std::vector<ReadingRow> rows) = 0;
  // Readings of a venue with ts_ms >= since_ms, by (ts_ms, sensor, seq): state after restart.
  virtual Result<std::vector<ReadingRow>> readings_for_venue(std::string_view venue,
                                                             TimeMs since_ms) = 0;

  // Alerts (insert or replace by id); listed by since, then id.
  virtual Result<void> upsert_alert(const AlertRecord& alert) = 0;
  virtual Result<std::optional<AlertRecord>> get_alert(std::string_view id) = 0;
  virtual Result<std::vector<AlertRecord>> list_alerts(const AlertQuery& query) = 0;

  // Small configuration blobs (escalation policies, thresholds, posture) by key.
  virtual Result<std::optional<std::string>> kv_get(std::string_view key) = 0;
  virtual Result<void> kv_put(std::string_view key, std::string_view value) = 0;
  // Every (key, value) whose key starts with `prefix`, by key.
  virtual Result<std::vector<std::pair<std::string, std::string>>> kv_list(
      std::string_view prefix) = 0;

  // Audit. append_audit ignores the entry's seq, prev_hash and hash and returns the entry as
  // stored. Appends are serialised with every other write. detail must be a JSON text; at, when
  // given, RFC 3339 UTC with milliseconds.
  virtual Result<AuditEntry> append_audit(AuditEntry entry) = 0;
  virtual Result<std::vector<AuditEntry>> list_audit(const AuditQuery& query) = 0;
  // Signs the current head of the log (an existing checkpoint at the head is returned as is).
  virtual Result<AuditCheckpoint> checkpoint_audit() = 0;
  virtual Result<std::vector<AuditCheckpoint>> list_checkpoints() = 0;
  // Recomputes the whole chain; checks the checkpoints (table and witness file): the log still
  // reaches each one, its hash matches, its signature verifies. Reports the first bad entry.
  virtual Result<AuditVerification> verify_audit() = 0;
  // The Ed25519 public key that signs checkpoints, hex (64 characters).
  virtual std::string audit_public_key() const = 0;

  virtual StoreStats stats() const = 0;
};

// The SQLite store in `dir` (created on first use, mode 0700): `dir/vigil.db` and the checkpoint
// signing key `dir/audit-ed25519.pem` (created on first use, mode 0600). Applies pending schema
// migrations; a store written by a newer Vigil is an error that says so.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& dir,
                                                 const StoreOptions& options = {});

// ---- helpers --------------------------------------------------------------------------------

TimeMs now_ms();
// 2024-05-01T18:30:00.250Z
std::string format_rfc3339_ms(TimeMs t);
// Exactly the form format_rfc3339_ms writes; nullopt otherwise.
std::optional<TimeMs> parse_rfc3339_ms(std::string_view text);

}  // namespace vigil::store
