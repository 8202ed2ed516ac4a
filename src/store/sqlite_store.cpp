// SPDX-License-Identifier: Apache-2.0
// The SQLite store (store.hpp): one database file in WAL mode, one writer thread that owns the
// write connection and commits in groups, and a pool of read-only connections.
//
// Group commit. Writers enqueue a job and (for synchronous methods) wait on a future. The
// writer thread takes everything pending (up to max_group_readings readings), opens one
// transaction (BEGIN IMMEDIATE), runs each job inside its own savepoint (a failing job is
// rolled back alone), commits once (one WAL fsync, synchronous=FULL), and only then delivers
// each job's result. So a delivered success is durable, and a delivered error changed nothing.
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include "store/audit.hpp"
#include "store/crypto.hpp"
#include "store/sqlite_db.hpp"
#include "store/sqlite_schema.hpp"
#include "store/store.hpp"

namespace vigil::store {
namespace {

using sqlite::Db;
using sqlite::Query;

constexpr char kDbFileName[] = "vigil.db";
constexpr char kKeyFileName[] = "audit-ed25519.pem";
constexpr char kTokensHintFileName[] = "tokens.changes";
constexpr std::size_t kMaxIdleReaders = 8;

// A 64-bit counter in a file that every process opening the data directory maps, shared: one
// process bumps it after committing a change to the tokens, the others see the new value at
// their next atomic load (the page cache is the same memory for all of them).
class SharedCounter {
 public:
  // nullptr when the file cannot be made or mapped (then the caller does without it).
  static std::unique_ptr<SharedCounter> open(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return nullptr;
    struct stat st {};
    // Growing a new file to 8 bytes writes zeros; on a file of 8 bytes already it does nothing,
    // so two processes creating it at once cannot wipe a count.
    const bool sized = ::fstat(fd, &st) == 0 && (st.st_size >= 8 || ::ftruncate(fd, 8) == 0);
    void* mem = sized ? ::mmap(nullptr, 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    ::close(fd);  // the mapping stays
    if (mem == MAP_FAILED) return nullptr;
    return std::unique_ptr<SharedCounter>(new SharedCounter(static_cast<std::uint64_t*>(mem)));
  }
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;
  ~SharedCounter() { ::munmap(word_, 8); }

  std::uint64_t load() const {
    return std::atomic_ref<std::uint64_t>(*word_).load(std::memory_order_acquire);
  }
  void bump() { std::atomic_ref<std::uint64_t>(*word_).fetch_add(1, std::memory_order_acq_rel); }

 private:
  explicit SharedCounter(std::uint64_t* word) : word_(word) {}
  std::uint64_t* word_;  // page-aligned, so atomic_ref's alignment holds
};

Error with_context(std::string_view what, const Error& e) {
  return Error{e.where, std::string(what) + ": " + e.message};
}

// ---- write jobs -----------------------------------------------------------------------------

// What a job may use inside the group transaction.
struct WriteCtx {
  Db& db;
  // Actions to run once the group has committed (e.g. appending to the witness file). A job
  // that fails has its actions dropped.
  std::vector<std::function<void()>> after_commit;
};

class WriteJob {
 public:
  WriteJob() = default;
  WriteJob(const WriteJob&) = delete;
  WriteJob& operator=(const WriteJob&) = delete;
  virtual ~WriteJob() = default;

  virtual std::size_t readings() const { return 0; }
  virtual std::size_t accepted() const { return 0; }
  virtual std::size_t duplicates() const { return 0; }
  // Runs inside the group transaction, in a savepoint: an error rolls back this job alone.
  virtual Result<void> run(WriteCtx& ctx) = 0;
  // After run() failed: true asks the group to roll this job back to its savepoint and run it
  // once more (a fast first attempt that could not tell the whole story).
  virtual bool retry_exactly() { return false; }
  // Delivers the result, after the group. `group_error`: the group did not commit (then a job
  // that ran successfully reports it; a job that failed reports its own error).
  virtual void finish(const Error* group_error) = 0;
};

template <class T>
class FnJob final : public WriteJob {
 public:
  using Fn = std::function<Result<T>(WriteCtx&)>;
  explicit FnJob(Fn fn) : fn_(std::move(fn)) {}
  std::future<Result<T>> future() { return promise_.get_future(); }

  Result<void> run(WriteCtx& ctx) override {
    result_.emplace(fn_(ctx));
    if (!result_->has_value()) return unexpected(result_->error());
    return {};
  }
  void finish(const Error* group_error) override {
    if (!result_ || (group_error != nullptr && result_->has_value())) {
      promise_.set_value(unexpected(group_error ? *group_error : Error{"", "not written"}));
    } else {
      promise_.set_value(std::move(*result_));
    }
  }

 private:
  Fn fn_;
  std::promise<Result<T>> promise_;
  std::optional<Result<T>> result_;
};

// Ignores a row only when its primary key is already there. (INSERT OR IGNORE would also skip
// rows that break NOT NULL and CHECK constraints, silently counting bad rows as duplicates.)
constexpr char kInsertReading[] =
    "INSERT INTO readings (venue, sensor, seq, ts_ms, kind, n_in, n_out, n_count, density,"
    " received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (venue, ts_ms, sensor, seq) DO NOTHING";

// The same for `n` rows in one statement (one VDBE program run instead of n). A batch goes in
// chunks of 64, 32, ..., 1 rows, so at most seven statements are prepared.
constexpr std::size_t kMaxChunkRows = 64;
constexpr int kReadingColumns = 10;

const std::string& insert_readings_sql(std::size_t n) {
  static const std::array<std::string, 7> sql = [] {
    std::array<std::string, 7> out;
    for (std::size_t k = 0; k < out.size(); ++k) {
      std::string& s = out[k];
      s = "INSERT INTO readings (venue, sensor, seq, ts_ms, kind, n_in, n_out, n_count, density,"
          " received_ms) VALUES ";
      for (std::size_t i = 0; i < (std::size_t{1} << k); ++i) {
        if (i > 0) s += ',';
        s += "(?,?,?,?,?,?,?,?,?,?)";
      }
      s += " ON CONFLICT (venue, ts_ms, sensor, seq) DO NOTHING";
    }
    return out;
  }();
  std::size_t k = 0;
  while ((std::size_t{2} << k) <= n) ++k;
  return sql[k];  // n = 2^k rows
}

// The rows of the next chunk: the largest power of two <= min(remaining, 64).
std::size_t chunk_rows(std::size_t remaining) {
  std::size_t n = 1;
  while ((n << 1) <= std::min(remaining, kMaxChunkRows)) n <<= 1;
  return n;
}

void bind_reading(Query& q, int first, std::string_view venue, const ReadingRow& row,
                  TimeMs received) {
  q.bind_static(first, venue)
      .bind_static(first + 1, row.sensor)
      .bind(first + 2, row.seq)
      .bind(first + 3, row.ts_ms)
      .bind_static(first + 4, to_string(row.kind))
      .bind(first + 5, row.in)
      .bind(first + 6, row.out)
      .bind(first + 7, row.count)
      .bind(first + 8, row.density_p_m2)
      .bind(first + 9, row.received_ms != 0 ? row.received_ms : received);
}

// A batch of readings. First pass (the common case: every row new and valid): multi-row
// INSERTs; when they store every row, done. Otherwise (a duplicate, or a row the table
// rejects) the job asks to be run again (retry_exactly): the group rolls it back to its
// savepoint and the second pass inserts row by row, telling which rows were new and locating a
// bad row as readings[i].
class ReadingsJob final : public WriteJob {
 public:
  ReadingsJob(std::string venue, std::vector<ReadingRow> rows, AppendCallback done)
      : venue_(std::move(venue)),
        rows_(std::move(rows)),
        n_rows_(rows_.size()),
        done_(std::move(done)) {}

  std::size_t readings() const override { return n_rows_; }
  std::size_t accepted() const override { return result_.accepted; }
  std::size_t duplicates() const override { return result_.duplicates; }
  bool retry_exactly() override { return std::exchange(retry_, false); }

  Result<void> run(WriteCtx& ctx) override {
    result_ = AppendResult{};
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      const ReadingRow& row = rows_[i];
      if (!row.venue.empty() && row.venue != venue_) {
        return fail(Error{where(i) + ".venue",
                          "names venue \"" + row.venue + "\" in a batch for \"" + venue_ + "\""});
      }
    }
    const TimeMs received = now_ms();
    if (!exact_) {
      auto stored = insert_all(ctx.db, received);
      if (stored && *stored == rows_.size()) {
        take_new_rows(std::vector<char>(), received);
        return {};
      }
      exact_ = true;
      retry_ = true;
      return unexpected(stored ? Error{"store", "a duplicate: to be written row by row"}
                               : stored.error());
    }
    return insert_row_by_row(ctx.db, received);
  }

  void finish(const Error* group_error) override {
    Result<AppendResult> r = error_        ? Result<AppendResult>(unexpected(*error_))
                             : group_error ? Result<AppendResult>(unexpected(*group_error))
                                           : Result<AppendResult>(std::move(result_));
    try {
      done_(std::move(r));
    } catch (...) {  // NOLINT(bugprone-empty-catch): a throwing callback must not stop the writer
    }
  }

 private:
  static std::string where(std::size_t i) { return "readings[" + std::to_string(i) + "]"; }

  // How many rows the multi-row statements stored (fewer than the batch: duplicates).
  Result<std::size_t> insert_all(Db& db, TimeMs received) {
    std::size_t pos = 0;
    std::size_t stored = 0;
    while (pos < rows_.size()) {
      const std::size_t n = chunk_rows(rows_.size() - pos);
      auto q = db.query(insert_readings_sql(n));
      if (!q) return unexpected(q.error());
      for (std::size_t i = 0; i < n; ++i) {
        bind_reading(*q, static_cast<int>(i) * kReadingColumns + 1, venue_, rows_[pos + i],
                     received);
      }
      if (auto r = q->run(); !r) return unexpected(r.error());
      stored += static_cast<std::size_t>(q->changes());
      pos += n;
    }
    return stored;
  }

  Result<void> insert_row_by_row(Db& db, TimeMs received) {
    auto q = db.query(kInsertReading);
    if (!q) return fail(q.error());
    std::vector<char> fresh(rows_.size(), 0);
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      bind_reading(*q, 1, venue_, rows_[i], received);
      auto r = q->step();
      if (!r) return fail(Error{where(i), "rejected by the store: " + r.error().message});
      if (q->changes() > 0) fresh[i] = 1;
      q->reset();
    }
    take_new_rows(fresh, received);
    return {};
  }

  // Moves the stored rows (all when `fresh` is empty) into the result.
  void take_new_rows(const std::vector<char>& fresh, TimeMs received) {
    const bool all = fresh.empty();
    result_.accepted = all ? rows_.size() : static_cast<std::size_t>(std::count(
                                                fresh.begin(), fresh.end(), char{1}));
    result_.duplicates = rows_.size() - result_.accepted;
    if (all) {
      result_.new_rows = std::move(rows_);
      rows_.clear();
    } else {
      result_.new_rows.reserve(result_.accepted);
      for (std::size_t i = 0; i < rows_.size(); ++i) {
        if (fresh[i] != 0) result_.new_rows.push_back(std::move(rows_[i]));
      }
    }
    for (ReadingRow& row : result_.new_rows) {
      if (row.venue.empty()) row.venue = venue_;
      if (row.received_ms == 0) row.received_ms = received;
    }
  }

  Result<void> fail(Error e) {
    error_ = e;
    result_ = AppendResult{};
    return unexpected(std::move(e));
  }

  std::string venue_;
  std::vector<ReadingRow> rows_;  // moved into the result once stored
  std::size_t n_rows_;
  AppendCallback done_;
  AppendResult result_;
  std::optional<Error> error_;
  bool exact_ = false;  // the second pass: row by row
  bool retry_ = false;  // the first pass asked for the second
};

// ---- row mapping ----------------------------------------------------------------------------

constexpr char kTokenColumns[] =
    "SELECT id, hash, role, venue, name, created_at_ms, revoked_at_ms FROM tokens";
TokenRecord token_from(const Query& q) {
  return TokenRecord{q.text(0), q.text(1),  q.text(2),     q.opt_text(3),
                     q.text(4), q.int64(5), q.opt_int64(6)};
}

constexpr char kGatheringColumns[] =
    "SELECT id, venue, json, starts_at_ms, ends_at_ms FROM gatherings";
GatheringRecord gathering_from(const Query& q) {
  return GatheringRecord{q.text(0), q.text(1), q.text(2), q.int64(3), q.int64(4)};
}

constexpr char kAlertColumns[] =
    "SELECT id, venue, rule, zone, severity, state, since_ms, acknowledged_by,"
    " acknowledged_at_ms, note, resolved_at_ms, escalation_level, detail FROM alerts";
AlertRecord alert_from(const Query& q) {
  AlertRecord a;
  a.id = q.text(0);
  a.venue = q.text(1);
  a.rule = q.text(2);
  a.zone = q.text(3);
  a.severity = q.text(4);
  a.state = q.text(5);
  a.since_ms = q.int64(6);
  a.acknowledged_by = q.opt_text(7);
  a.acknowledged_at_ms = q.opt_int64(8);
  a.note = q.text(9);
  a.resolved_at_ms = q.opt_int64(10);
  a.escalation_level = static_cast<int>(q.int64(11));
  a.detail = q.text(12);
  return a;
}

constexpr char kAuditColumns[] =
    "SELECT seq, at, actor, action, subject, venue, detail, prev_hash, hash FROM audit";
AuditEntry audit_from(const Query& q) {
  return AuditEntry{q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4),
                    q.text(5),  q.text(6), q.text(7), q.text(8)};
}

constexpr char kCheckpointColumns[] =
    "SELECT seq, hash, at, signature, public_key FROM audit_checkpoints";
AuditCheckpoint checkpoint_from(const Query& q) {
  return AuditCheckpoint{q.int64(0), q.text(1), q.text(2), q.text(3), q.text(4)};
}

ReadingRow reading_from(const Query& q) {
  ReadingRow r;
  r.venue = q.text(0);
  r.sensor = q.text(1);
  r.seq = q.int64(2);
  r.ts_ms = q.int64(3);
  r.kind = parse_reading_kind(q.text(4)).value_or(ReadingKind::count);
  r.in = q.int64(5);
  r.out = q.int64(6);
  r.count = q.int64(7);
  r.density_p_m2 = q.real(8);
  r.received_ms = q.int64(9);
  return r;
}

// Runs `sql` with `bind` applied and collects every row through `from`.
template <class T, class Bind, class From>
Result<std::vector<T>> collect(Db& db, const std::string& sql, Bind&& bind, From&& from) {
  auto q = db.query(sql);
  if (!q) return unexpected(q.error());
  bind(*q);
  std::vector<T> out;
  for (;;) {
    auto row = q->step();
    if (!row) return unexpected(with_context(sql, row.error()));
    if (!*row) return out;
    out.push_back(from(*q));
  }
}

template <class T, class Bind, class From>
Result<std::optional<T>> fetch_one(Db& db, const std::string& sql, Bind&& bind, From&& from) {
  auto rows = collect<T>(db, sql, std::forward<Bind>(bind), std::forward<From>(from));
  if (!rows) return unexpected(rows.error());
  if (rows->empty()) return std::optional<T>();
  return std::optional<T>(std::move(rows->front()));
}

Result<void> run_sql(Db& db, const std::string& sql, const std::function<void(Query&)>& bind) {
  auto q = db.query(sql);
  if (!q) return unexpected(q.error());
  bind(*q);
  if (auto r = q->run(); !r) return unexpected(r.error());
  return {};
}

Result<void> append_line_durably(const std::filesystem::path& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return unexpected(Error{path.string(), std::strerror(errno)});
  const std::string text = line + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) return unexpected(Error{path.string(), std::strerror(saved)});
  return {};
}

// ---- the store ------------------------------------------------------------------------------

class SqliteStore final : public Store {
 public:
  SqliteStore(std::filesystem::path db_file, StoreOptions options, SigningKey key,
              std::unique_ptr<Db> writer_db, std::unique_ptr<SharedCounter> tokens_hint)
      : db_file_(std::move(db_file)),
        options_(std::move(options)),
        key_(std::move(key)),
        writer_db_(std::move(writer_db)),
        tokens_hint_(std::move(tokens_hint)) {
    writer_ = std::thread([this] { writer_loop(); });
    writer_id_ = writer_.get_id();
  }

  ~SqliteStore() override {
    if (options_.checkpoint_on_close) {
      (void)write<std::optional<AuditCheckpoint>>(
          [this](WriteCtx& ctx) { return checkpoint_if_behind(ctx); });
    }
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    writer_.join();
    // The writer connection closes last: SQLite then checkpoints the WAL into the database.
    idle_readers_.clear();
    writer_db_.reset();
  }

  // -- tokens

  Result<void> put_token(const TokenRecord& t) override {
    auto done = write<void>([t](WriteCtx& ctx) -> Result<void> {
      auto r = run_sql(ctx.db,
                       "INSERT INTO tokens (id, hash, role, venue, name, created_at_ms,"
                       " revoked_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                       " ON CONFLICT (id) DO UPDATE SET hash = ?2, role = ?3, venue = ?4,"
                       " name = ?5, created_at_ms = ?6, revoked_at_ms = ?7",
                       [&](Query& q) {
                         q.bind(1, std::string_view(t.id))
                             .bind(2, std::string_view(t.hash))
                             .bind(3, std::string_view(t.role))
                             .bind(4, t.venue)
                             .bind(5, std::string_view(t.name))
                             .bind(6, t.created_at_ms)
                             .bind(7, t.revoked_at_ms);
                       });
      if (!r) return unexpected(with_context("token " + t.id, r.error()));
      return {};
    });
    if (done) tokens_changed();
    return done;
  }

  Result<std::optional<TokenRecord>> find_token_by_hash(std::string_view hash) override {
    return read([&](Db& db) {
      return fetch_one<TokenRecord>(
          db, std::string(kTokenColumns) + " WHERE hash = ?", [&](Query& q) { q.bind(1, hash); },
          token_from);
    });
  }

  Result<std::vector<TokenRecord>> list_tokens() override {
    return read([&](Db& db) {
      return collect<TokenRecord>(
          db, std::string(kTokenColumns) + " ORDER BY created_at_ms, id", [](Query&) {},
          token_from);
    });
  }

  Result<bool> revoke_token(std::string_view id, TimeMs at_ms) override {
    auto done = write<bool>([id = std::string(id), at_ms](WriteCtx& ctx) -> Result<bool> {
      auto q =
          ctx.db.query("UPDATE tokens SET revoked_at_ms = coalesce(revoked_at_ms, ?) WHERE id = ?");
      if (!q) return unexpected(q.error());
      q->bind(1, at_ms).bind(2, std::string_view(id));
      if (auto r = q->run(); !r) return unexpected(r.error());
      return q->changes() > 0;
    });
    if (done && *done) tokens_changed();
    return done;
  }

  // The truth is one row that triggers on `tokens` keep (schema version 4), read like any row:
  // it sees the commits of every connection, other processes' included. (Not `PRAGMA
  // data_version`: that moves on every commit, so each batch of telemetry would empty the
  // caches, and is per connection.) Reading it takes a WAL read lock, most of what a cached
  // token check costs, so the value read is kept while the shared hint (tokens.changes, bumped
  // by every store after its token commits) stays put, for at most tokens_recheck_ms: a change
  // made through a store is seen by the next call in any process; one made behind the stores'
  // back (the sqlite3 shell) within tokens_recheck_ms.
  Result<std::int64_t> tokens_generation() override {
    static const std::string sql = "SELECT generation FROM tokens_generation WHERE id = 1";
    if (!tokens_hint_ || options_.tokens_recheck_ms <= 0)
      return read([](Db& db) { return db.scalar(sql); });
    // The hint is read before the row: a store bumps it after committing, so a row read after
    // an unchanged hint is at least as new as the change that hint stands for.
    const std::uint64_t hint = tokens_hint_->load();
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(generation_mu_);
      if (generation_ && generation_->hint == hint &&
          now - generation_->read_at < std::chrono::milliseconds(options_.tokens_recheck_ms))
        return generation_->value;
    }
    auto value = read([](Db& db) { return db.scalar(sql); });
    if (!value) return value;
    std::lock_guard lock(generation_mu_);
    generation_ = KnownGeneration{*value, hint, now};
    return value;
  }

  // -- venues

  Result<void> put_venue(const VenueRecord& v) override {
    return write<void>([v](WriteCtx& ctx) -> Result<void> {
      auto r = run_sql(ctx.db,
                       "INSERT INTO venues (id, json, updated_at_ms) VALUES (?1, ?2, ?3)"
                       " ON CONFLICT (id) DO UPDATE SET json = ?2, updated_at_ms = ?3",
                       [&](Query& q) {
                         q.bind(1, std::string_view(v.id))
                             .bind(2, std::string_view(v.json))
                             .bind(3, v.updated_at_ms);
                       });
      if (!r) return unexpected(with_context("venue " + v.id, r.error()));
      return {};
    });
  }

  Result<std::optional<VenueRecord>> get_venue(std::string_view id) override {
    return read([&](Db& db) {
      return fetch_one<VenueRecord>(
          db, "SELECT id, json, updated_at_ms FROM venues WHERE id = ?",
          [&](Query& q) { q.bind(1, id); },
          [](const Query& q) {
            return VenueRecord{q.text(0), q.text(1), q.int64(2)};
          });
    });
  }

  Result<std::vector<VenueRecord>> list_venues() override {
    return read([&](Db& db) {
      return collect<VenueRecord>(
          db, "SELECT id, json, updated_at_ms FROM venues ORDER BY id", [](Query&) {},
          [](const Query& q) {
            return VenueRecord{q.text(0), q.text(1), q.int64(2)};
          });
    });
  }

  // -- gatherings

  Result<void> put_gathering(const GatheringRecord& g) override {
    return write<void>([g](WriteCtx& ctx) -> Result<void> {
      auto r = run_sql(ctx.db,
                       "INSERT INTO gatherings (id, venue, json, starts_at_ms, ends_at_ms)"
                       " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET"
                       " venue = ?2, json = ?3, starts_at_ms = ?4, ends_at_ms = ?5",
                       [&](Query& q) {
                         q.bind(1, std::string_view(g.id))
                             .bind(2, std::string_view(g.venue))
                             .bind(3, std::string_view(g.json))
                             .bind(4, g.starts_at_ms)
                             .bind(5, g.ends_at_ms);
                       });
      if (!r) return unexpected(with_context("gathering " + g.id, r.error()));
      return {};
    });
  }

  Result<std::optional<GatheringRecord>> get_gathering(std::string_view id) override {
    return read([&](Db& db) {
      return fetch_one<GatheringRecord>(
          db, std::string(kGatheringColumns) + " WHERE id = ?", [&](Query& q) { q.bind(1, id); },
          gathering_from);
    });
  }

  Result<std::vector<GatheringRecord>> list_gatherings(const GatheringQuery& query) override {
    return read([&](Db& db) {
      return collect<GatheringRecord>(
          db,
          std::string(kGatheringColumns) +
              " WHERE (?1 IS NULL OR venue = ?1) AND (?2 IS NULL OR ends_at_ms >= ?2)"
              " AND (?3 IS NULL OR starts_at_ms <= ?3) ORDER BY starts_at_ms, id",
          [&](Query& q) { q.bind(1, query.venue).bind(2, query.from_ms).bind(3, query.to_ms); },
          gathering_from);
    });
  }

  // -- telemetry

  void append_readings(std::string venue, std::vector<ReadingRow> rows,
                       AppendCallback done) override {
    std::unique_ptr<WriteJob> job =
        std::make_unique<ReadingsJob>(std::move(venue), std::move(rows), std::move(done));
    if (auto r = submit(job); !r) job->finish(&r.error());
  }

  Result<AppendResult> append_readings_sync(std::string venue,
                                            std::vector<ReadingRow> rows) override {
    if (on_writer_thread()) return unexpected(writer_thread_error());
    std::promise<Result<AppendResult>> promise;
    auto future = promise.get_future();
    append_readings(std::move(venue), std::move(rows),
                    [&promise](Result<AppendResult> r) { promise.set_value(std::move(r)); });
    return future.get();
  }

  Result<std::vector<ReadingRow>> readings_for_venue(std::string_view venue,
                                                     TimeMs since_ms) override {
    return read([&](Db& db) {
      return collect<ReadingRow>(
          db,
          "SELECT venue, sensor, seq, ts_ms, kind, n_in, n_out, n_count, density, received_ms"
          " FROM readings WHERE venue = ? AND ts_ms >= ? ORDER BY ts_ms, sensor, seq",
          [&](Query& q) { q.bind(1, venue).bind(2, since_ms); }, reading_from);
    });
  }

  // -- alerts

  Result<void> upsert_alert(const AlertRecord& a) override {
    return write<void>([a](WriteCtx& ctx) -> Result<void> {
      auto r =
          run_sql(ctx.db,
                  "INSERT INTO alerts (id, venue, rule, zone, severity, state, since_ms,"
                  " acknowledged_by, acknowledged_at_ms, note, resolved_at_ms, escalation_level,"
                  " detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                  " ON CONFLICT (id) DO UPDATE SET venue = ?2, rule = ?3, zone = ?4,"
                  " severity = ?5, state = ?6, since_ms = ?7, acknowledged_by = ?8,"
                  " acknowledged_at_ms = ?9, note = ?10, resolved_at_ms = ?11,"
                  " escalation_level = ?12, detail = ?13",
                  [&](Query& q) {
                    q.bind(1, std::string_view(a.id))
                        .bind(2, std::string_view(a.venue))
                        .bind(3, std::string_view(a.rule))
                        .bind(4, std::string_view(a.zone))
                        .bind(5, std::string_view(a.severity))
                        .bind(6, std::string_view(a.state))
                        .bind(7, a.since_ms)
                        .bind(8, a.acknowledged_by)
                        .bind(9, a.acknowledged_at_ms)
                        .bind(10, std::string_view(a.note))
                        .bind(11, a.resolved_at_ms)
                        .bind(12, a.escalation_level)
                        .bind(13, std::string_view(a.detail));
                  });
      if (!r) return unexpected(with_context("alert " + a.id, r.error()));
      return {};
    });
  }

  Result<std::optional<AlertRecord>> get_alert(std::string_view id) override {
    return read([&](Db& db) {
      return fetch_one<AlertRecord>(
          db, std::string(kAlertColumns) + " WHERE id = ?", [&](Query& q) { q.bind(1, id); },
          alert_from);
    });
  }

  Result<std::vector<AlertRecord>> list_alerts(const AlertQuery& query) override {
    auto newest_first = read([&](Db& db) {
      return collect<AlertRecord>(
          db,
          std::string(kAlertColumns) +
              " WHERE (?1 IS NULL OR venue = ?1) AND (?2 IS NULL OR state = ?2)"
              " AND (?3 IS NULL OR since_ms < ?3)"
              " ORDER BY since_ms DESC, id DESC LIMIT ?4",
          [&](Query& q) {
            q.bind(1, query.venue)
                .bind(2, query.state)
                .bind(3, query.before_ms)
                .bind(4, query.limit == 0 ? std::int64_t{-1}
                                          : static_cast<std::int64_t>(query.limit));
          },
          alert_from);
    });
    if (newest_first) std::reverse(newest_first->begin(), newest_first->end());
    return newest_first;
  }

  // -- kv

  Result<std::optional<std::string>> kv_get(std::string_view key) override {
    return read([&](Db& db) {
      return fetch_one<std::string>(
          db, "SELECT value FROM kv WHERE key = ?", [&](Query& q) { q.bind(1, key); },
          [](const Query& q) { return q.text(0); });
    });
  }

  Result<void> kv_put(std::string_view key, std::string_view value) override {
    return write<void>(
        [key = std::string(key), value = std::string(value)](WriteCtx& ctx) -> Result<void> {
          auto r = run_sql(
              ctx.db,
              "INSERT INTO kv (key, value, updated_at_ms) VALUES (?1, ?2, ?3)"
              " ON CONFLICT (key) DO UPDATE SET value = ?2, updated_at_ms = ?3",
              [&](Query& q) {
                q.bind(1, std::string_view(key)).bind(2, std::string_view(value)).bind(3, now_ms());
              });
          if (!r) return unexpected(with_context("key " + key, r.error()));
          return {};
        });
  }

  Result<std::vector<std::pair<std::string, std::string>>> kv_list(
      std::string_view prefix) override {
    using Pair = std::pair<std::string, std::string>;
    return read([&](Db& db) {
      return collect<Pair>(
          db, "SELECT key, value FROM kv WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
          [&](Query& q) { q.bind(1, prefix); },
          [](const Query& q) { return Pair(q.text(0), q.text(1)); });
    });
  }

  // -- audit

  Result<AuditEntry> append_audit(AuditEntry entry) override {
    return write<AuditEntry>(
        [this, e = std::move(entry)](WriteCtx& ctx) mutable -> Result<AuditEntry> {
          return append_audit_in(ctx, e);
        });
  }

  Result<std::vector<AuditEntry>> list_audit(const AuditQuery& query) override {
    return read([&](Db& db) {
      return collect<AuditEntry>(
          db,
          std::string(kAuditColumns) +
              " WHERE seq > ?1 AND (?2 = '' OR at >= ?2) AND (?3 = '' OR at < ?3)"
              " ORDER BY seq LIMIT ?4",
          [&](Query& q) {
            q.bind(1, query.after_seq)
                .bind(2, std::string_view(query.from_at))
                .bind(3, std::string_view(query.to_at))
                .bind(4,
                      query.limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(query.limit));
          },
          audit_from);
    });
  }

  Result<AuditCheckpoint> checkpoint_audit() override {
    return write<AuditCheckpoint>([this](WriteCtx& ctx) -> Result<AuditCheckpoint> {
      auto head = audit_head(ctx.db);
      if (!head) return unexpected(head.error());
      if (head->first == 0) return unexpected(Error{"audit", "the audit log is empty"});
      return checkpoint_at(ctx, head->first, head->second);
    });
  }

  Result<std::vector<AuditCheckpoint>> list_checkpoints() override {
    return read([&](Db& db) {
      return collect<AuditCheckpoint>(
          db, std::string(kCheckpointColumns) + " ORDER BY seq", [](Query&) {}, checkpoint_from);
    });
  }

  Result<AuditVerification> verify_audit() override {
    std::vector<std::pair<AuditCheckpoint, std::string>> checkpoints;
    if (!options_.witness_file.empty()) {
      auto witnessed = read_witness_file();
      if (!witnessed) return unexpected(witnessed.error());
      for (auto& c : *witnessed) checkpoints.emplace_back(std::move(c), "witness file");
    }
    return read([&](Db& db) -> Result<AuditVerification> {
      // One read transaction: the checkpoints and the entries come from the same snapshot.
      if (auto r = db.exec("BEGIN"); !r) return unexpected(r.error());
      auto result = [&]() -> Result<AuditVerification> {
        auto table = collect<AuditCheckpoint>(
            db, std::string(kCheckpointColumns) + " ORDER BY seq", [](Query&) {}, checkpoint_from);
        if (!table) return unexpected(table.error());
        for (auto& c : *table) checkpoints.emplace_back(std::move(c), "table");
        AuditVerifier verifier(std::move(checkpoints), key_.public_key_hex());
        const std::string sql = std::string(kAuditColumns) + " ORDER BY seq";
        auto q = db.query(sql);
        if (!q) return unexpected(q.error());
        for (;;) {
          auto row = q->step();
          if (!row) return unexpected(with_context("reading the audit log", row.error()));
          if (!*row || !verifier.add(audit_from(*q))) break;
        }
        return verifier.finish();
      }();
      (void)db.exec("COMMIT");
      return result;
    });
  }

  std::string audit_public_key() const override { return key_.public_key_hex(); }

  StoreStats stats() const override {
    std::lock_guard lock(mu_);
    StoreStats s = stats_;
    s.queued_readings = queued_readings_;
    s.witness_failures = witness_failures_;
    return s;
  }

 private:
  // ---- the write path

  bool on_writer_thread() const { return std::this_thread::get_id() == writer_id_; }
  static Error writer_thread_error() {
    return Error{"store",
                 "a synchronous write from a store callback (the writer thread) would "
                 "wait for itself; use append_readings or write from another thread"};
  }

  // Queues `job` (taking it only on success).
  Result<void> submit(std::unique_ptr<WriteJob>& job) {
    const std::size_t n = job->readings();
    {
      std::lock_guard lock(mu_);
      if (closing_) return unexpected(Error{"store", "the store is closed"});
      if (n > 0 && queued_readings_ > 0 && queued_readings_ + n > options_.max_queued_readings) {
        return unexpected(Error{"store", "store busy: " + std::to_string(queued_readings_) +
                                             " readings are waiting to be written; retry later"});
      }
      queued_readings_ += n;
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return {};
  }

  template <class T>
  Result<T> write(typename FnJob<T>::Fn fn) {
    if (on_writer_thread()) return unexpected(writer_thread_error());
    auto job = std::make_unique<FnJob<T>>(std::move(fn));
    auto future = job->future();
    std::unique_ptr<WriteJob> base = std::move(job);
    if (auto r = submit(base); !r) return unexpected(r.error());
    return future.get();
  }

  void writer_loop() {
    pthread_setname_np(pthread_self(), "vigil-store");  // for top, perf and gdb
    std::vector<std::unique_ptr<WriteJob>> group;
    for (;;) {
      group.clear();
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) return;  // closing, and everything is written
        std::size_t rows = 0;
        while (!queue_.empty()) {
          const std::size_t n = queue_.front()->readings();
          if (!group.empty() && rows + n > options_.max_group_readings) break;
          rows += n;
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        queued_readings_ -= rows;
      }
      commit_group(group);
    }
  }

  Result<void> exec_cached(const std::string& sql) {
    auto q = writer_db_->query(sql);
    if (!q) return unexpected(q.error());
    return q->run();
  }

  void commit_group(std::vector<std::unique_ptr<WriteJob>>& group) {
    const auto t0 = std::chrono::steady_clock::now();
    WriteCtx ctx{*writer_db_, {}};
    std::vector<char> ok(group.size(), 0);
    std::optional<Error> group_error;

    if (auto r = exec_cached("BEGIN IMMEDIATE"); !r) {
      group_error = with_context("cannot start a transaction", r.error());
    } else {
      for (std::size_t i = 0; i < group.size(); ++i) {
        const std::size_t mark = ctx.after_commit.size();
        if (auto r2 = exec_cached("SAVEPOINT job"); !r2) {
          group_error = with_context("cannot write", r2.error());
          break;
        }
        auto r3 = group[i]->run(ctx);
        if (!r3 && group[i]->retry_exactly() && writer_db_->in_transaction()) {
          ctx.after_commit.resize(mark);
          if (exec_cached("ROLLBACK TO job")) r3 = group[i]->run(ctx);
        }
        if (r3) {
          ok[i] = (exec_cached("RELEASE job") ? 1 : 0);
          if (ok[i] != 0) continue;
        }
        ctx.after_commit.resize(mark);
        if (!writer_db_->in_transaction()) {
          // SQLite rolled the whole transaction back (I/O error, disk full): nothing of the
          // group is written.
          group_error =
              Error{"store", "the transaction was rolled back: " +
                                 (r3 ? std::string("release failed") : r3.error().to_string())};
          break;
        }
        (void)exec_cached("ROLLBACK TO job");
        (void)exec_cached("RELEASE job");
      }
      if (!group_error) {
        if (auto r4 = exec_cached("COMMIT"); !r4) {
          group_error = with_context("commit failed", r4.error());
        }
      }
      if (group_error && writer_db_->in_transaction()) (void)writer_db_->exec("ROLLBACK");
    }

    const auto t1 = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      if (!group_error) ++stats_.commits;
      stats_.commit_time_us += static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
      for (std::size_t i = 0; i < group.size(); ++i) {
        if (ok[i] == 0 || group_error) {
          ++stats_.failed_jobs;
          continue;
        }
        ++stats_.write_jobs;
        if (group[i]->readings() > 0) {
          ++stats_.reading_batches;
          stats_.readings_accepted += group[i]->accepted();
          stats_.readings_duplicate += group[i]->duplicates();
        }
      }
    }
    if (options_.on_commit) {
      CommitInfo info;
      info.seconds = std::chrono::duration<double>(t1 - t0).count();
      info.jobs = group.size();
      for (const auto& job : group) info.readings += job->readings();
      info.committed = !group_error;
      options_.on_commit(info);
    }
    const Error* err = group_error ? &*group_error : nullptr;
    for (auto& job : group) job->finish(err);
    if (!group_error) {
      for (auto& action : ctx.after_commit) action();
    }
  }

  // ---- audit, on the writer thread

  // (seq, hash) of the last entry; (0, genesis) when the log is empty.
  static Result<std::pair<std::int64_t, std::string>> audit_head(Db& db) {
    auto head = fetch_one<std::pair<std::int64_t, std::string>>(
        db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [](Query&) {},
        [](const Query& q) { return std::pair(q.int64(0), q.text(1)); });
    if (!head) return unexpected(head.error());
    if (!*head) return std::pair(std::int64_t{0}, std::string(kGenesisHash));
    return std::move(**head);
  }

  Result<AuditEntry> append_audit_in(WriteCtx& ctx, AuditEntry e) {
    auto head = audit_head(ctx.db);
    if (!head) return unexpected(head.error());
    e.seq = head->first + 1;
    e.prev_hash = head->second;
    if (e.at.empty()) {
      e.at = format_rfc3339_ms(now_ms());
    } else if (!parse_rfc3339_ms(e.at)) {
      return unexpected(Error{"at", "\"" + e.at + "\" is not RFC 3339 UTC with milliseconds"});
    }
    auto detail = canonical_json(e.detail);
    if (!detail) return unexpected(detail.error());
    e.detail = std::move(*detail);
    auto canonical = canonical_entry(e);
    if (!canonical) return unexpected(canonical.error());
    e.hash = chain_hash(e.prev_hash, *canonical);
    auto r = run_sql(ctx.db,
                     "INSERT INTO audit (seq, at, actor, action, subject, venue, detail,"
                     " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [&](Query& q) {
                       q.bind(1, e.seq)
                           .bind(2, std::string_view(e.at))
                           .bind(3, std::string_view(e.actor))
                           .bind(4, std::string_view(e.action))
                           .bind(5, std::string_view(e.subject))
                           .bind(6, std::string_view(e.venue))
                           .bind(7, std::string_view(e.detail))
                           .bind(8, std::string_view(e.prev_hash))
                           .bind(9, std::string_view(e.hash));
                     });
    if (!r) return unexpected(with_context("audit entry", r.error()));
    if (options_.checkpoint_every > 0 && e.seq % options_.checkpoint_every == 0) {
      auto c = checkpoint_at(ctx, e.seq, e.hash);
      if (!c) return unexpected(c.error());
    }
    return e;
  }

  Result<AuditCheckpoint> checkpoint_at(WriteCtx& ctx, std::int64_t seq, const std::string& hash) {
    auto existing = fetch_one<AuditCheckpoint>(
        ctx.db, std::string(kCheckpointColumns) + " WHERE seq = ?",
        [&](Query& q) { q.bind(1, seq); }, checkpoint_from);
    if (!existing) return unexpected(existing.error());
    if (*existing) return std::move(**existing);
    AuditCheckpoint c{seq, hash, format_rfc3339_ms(now_ms()), "", key_.public_key_hex()};
    auto signature = key_.sign(checkpoint_message(c));
    if (!signature) return unexpected(signature.error());
    c.signature = std::move(*signature);
    auto r = run_sql(ctx.db,
                     "INSERT INTO audit_checkpoints (seq, hash, at, signature, public_key)"
                     " VALUES (?, ?, ?, ?, ?)",
                     [&](Query& q) {
                       q.bind(1, c.seq)
                           .bind(2, std::string_view(c.hash))
                           .bind(3, std::string_view(c.at))
                           .bind(4, std::string_view(c.signature))
                           .bind(5, std::string_view(c.public_key));
                     });
    if (!r) return unexpected(with_context("audit checkpoint", r.error()));
    if (!options_.witness_file.empty()) {
      ctx.after_commit.emplace_back([this, line = witness_line(c)] {
        if (!append_line_durably(options_.witness_file, line)) {
          std::lock_guard lock(mu_);
          ++witness_failures_;
        }
      });
    }
    return c;
  }

  // A checkpoint at the head of the log when the last checkpoint is older (on close).
  Result<std::optional<AuditCheckpoint>> checkpoint_if_behind(WriteCtx& ctx) {
    auto head = audit_head(ctx.db);
    if (!head) return unexpected(head.error());
    if (head->first == 0) return std::optional<AuditCheckpoint>();
    auto c = checkpoint_at(ctx, head->first, head->second);
    if (!c) return unexpected(c.error());
    return std::optional<AuditCheckpoint>(std::move(*c));
  }

  Result<std::vector<AuditCheckpoint>> read_witness_file() const {
    std::vector<AuditCheckpoint> out;
    std::error_code ec;
    if (!std::filesystem::exists(options_.witness_file, ec)) return out;
    std::ifstream in(options_.witness_file, std::ios::binary);
    if (!in) return unexpected(Error{options_.witness_file.string(), "cannot read"});
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t pos = 0;
    int line_no = 0;
    while (pos < text.size()) {
      const std::size_t end = text.find('\n', pos);
      ++line_no;
      if (end == std::string::npos) break;  // a torn last line (crash while appending): skip
      const std::string_view line(text.data() + pos, end - pos);
      pos = end + 1;
      if (line.empty()) continue;
      auto c = parse_witness_line(line);
      if (!c) {
        return unexpected(Error{options_.witness_file.string() + ":" + std::to_string(line_no),
                                c.error().message});
      }
      out.push_back(std::move(*c));
    }
    return out;
  }

  // ---- the read path

  struct ReaderLease {
    SqliteStore* store;
    std::unique_ptr<Db> db;
    ReaderLease(SqliteStore* s, std::unique_ptr<Db> d) : store(s), db(std::move(d)) {}
    ReaderLease(ReaderLease&&) noexcept = default;
    ReaderLease(const ReaderLease&) = delete;
    ReaderLease& operator=(const ReaderLease&) = delete;
    ReaderLease& operator=(ReaderLease&&) = delete;
    ~ReaderLease() {
      if (!db) return;
      std::lock_guard lock(store->readers_mu_);
      if (store->idle_readers_.size() < kMaxIdleReaders) {
        store->idle_readers_.push_back(std::move(db));
      }
    }
  };

  Result<ReaderLease> acquire_reader() {
    {
      std::lock_guard lock(readers_mu_);
      if (!idle_readers_.empty()) {
        std::unique_ptr<Db> db = std::move(idle_readers_.back());
        idle_readers_.pop_back();
        return ReaderLease(this, std::move(db));
      }
    }
    auto db = Db::open(db_file_, options_.busy_timeout_ms, /*read_only=*/true);
    if (!db) return unexpected(db.error());
    return ReaderLease(this, std::move(*db));
  }

  // Runs f(Db&) on a pooled read connection.
  template <class F>
  auto read(F&& f) -> decltype(f(std::declval<Db&>())) {
    auto lease = acquire_reader();
    if (!lease) return unexpected(lease.error());
    return f(*lease->db);
  }

  std::filesystem::path db_file_;
  StoreOptions options_;
  SigningKey key_;
  std::unique_ptr<Db> writer_db_;  // used only by the writer thread (and the destructor)

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<WriteJob>> queue_;  // GUARDED_BY(mu_)
  std::size_t queued_readings_ = 0;              // GUARDED_BY(mu_)
  bool closing_ = false;                         // GUARDED_BY(mu_)
  StoreStats stats_;                             // GUARDED_BY(mu_)
  std::uint64_t witness_failures_ = 0;           // GUARDED_BY(mu_)
  std::thread writer_;
  std::thread::id writer_id_;  // set before the store is handed out

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Db>> idle_readers_;  // GUARDED_BY(readers_mu_)

  // Tells every process on this data directory that the tokens changed (null: the file could
  // not be mapped; then every tokens_generation() reads the database).
  void tokens_changed() {
    if (tokens_hint_) tokens_hint_->bump();
  }
  std::unique_ptr<SharedCounter> tokens_hint_;
  struct KnownGeneration {
    std::int64_t value;
    std::uint64_t hint;  // the hint read before the value
    std::chrono::steady_clock::time_point read_at;
  };
  std::mutex generation_mu_;
  std::optional<KnownGeneration> generation_;  // GUARDED_BY(generation_mu_)
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& dir,
                                                 const StoreOptions& options) {
  // SQLite's memory statistics take a global mutex on every allocation; the store does not use
  // them. Only possible before SQLite is first used in the process; harmless when too late.
  static std::once_flag memstatus_off;
  std::call_once(memstatus_off, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec)
      return unexpected(Error{dir.string(), "cannot create the data directory: " + ec.message()});
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  } else if (!std::filesystem::is_directory(dir, ec)) {
    return unexpected(Error{dir.string(), "not a directory"});
  }
  const std::filesystem::path db_file = dir / kDbFileName;
  auto db = Db::open(db_file, options.busy_timeout_ms, /*read_only=*/false);
  if (!db) return unexpected(db.error());

  // WAL: readers never block the writer and a commit is one append + fsync of the log.
  {
    auto mode = (*db)->query("PRAGMA journal_mode = WAL");
    if (!mode) return unexpected(mode.error());
    auto row = mode->step();
    if (!row || !*row || mode->text(0) != "wal") {
      return unexpected(Error{db_file.string(), "cannot switch the database to WAL mode"});
    }
  }
  // The writer's page cache (64 MiB) holds the hot leaves of the readings tree; the WAL is
  // copied back into the database every ~16 MiB (fewer, larger checkpoints: a leaf rewritten by
  // many commits is copied once).
  // secure_delete (on in Debian's build) zeroes freed cell space on every b-tree rebalance; the
  // store deletes nothing secret, so the writer does without it.
  if (auto r = (*db)->exec("PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 4000;"
                           "PRAGMA secure_delete = OFF;");
      !r) {
    return unexpected(r.error());
  }

  auto version = sqlite::migrate(**db, sqlite::migrations());
  if (!version) return unexpected(version.error());

  auto key = SigningKey::load_or_create(dir / kKeyFileName);
  if (!key) return unexpected(key.error());

  return std::unique_ptr<Store>(new SqliteStore(db_file, options, std::move(*key), std::move(*db),
                                                SharedCounter::open(dir / kTokensHintFileName)));
}

}  // namespace vigil::store
