// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the store tests: a fresh data directory per test, readings, the sqlite3
// command-line tool.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "store/store.hpp"

namespace vigil::store::testing {

// A new empty directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "vigil-store-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path data() const { return path_ / "data"; }  // not created yet
  std::filesystem::path db() const { return data() / "vigil.db"; }

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<Store> open_or_die(const std::filesystem::path& dir,
                                          const StoreOptions& options = {}) {
  auto s = open_sqlite_store(dir, options);
  if (!s) throw std::runtime_error("open_sqlite_store: " + s.error().to_string());
  return std::move(*s);
}

inline ReadingRow count_reading(std::string sensor, std::int64_t seq, std::int64_t count = 1,
                                TimeMs ts_ms = 1'700'000'000'000) {
  ReadingRow r;
  r.sensor = std::move(sensor);
  r.seq = seq;
  r.ts_ms = ts_ms + seq;
  r.kind = ReadingKind::count;
  r.count = count;
  return r;
}

inline bool have_sqlite3_cli() { return std::system("sqlite3 -version >/dev/null 2>&1") == 0; }

// Runs SQL against the database file with the sqlite3 command-line tool; true on success.
inline bool sqlite3_cli(const std::filesystem::path& db, const std::string& sql) {
  const std::filesystem::path script = db.parent_path() / "tamper.sql";
  {
    std::ofstream out(script);
    out << sql << "\n";
  }
  const std::string cmd =
      "sqlite3 -bail '" + db.string() + "' < '" + script.string() + "' >/dev/null";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace vigil::store::testing
