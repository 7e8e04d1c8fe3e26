// Read-only looks into a running intaked's SQLite file, for end-to-end tests that must prove
// what was (or was not) stored, and changes to a stopped one's, for states no API call makes.
#ifndef INTAKE_TESTS_E2E_DATABASE_H_
#define INTAKE_TESTS_E2E_DATABASE_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace intake::testing {

// The single integer `sql` returns from the database at `path` (-1 on error, with a test
// failure).
inline int64_t QueryInt(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t value = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return value;
}

// The single text value `sql` returns ("" on error, with a test failure).
inline std::string QueryText(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string value;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) value = reinterpret_cast<const char*>(text);
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return value;
}

// Every row's first column of `sql`, as text.
inline std::vector<std::string> QueryColumn(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::vector<std::string> values;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        const unsigned char* text = sqlite3_column_text(stmt, 0);
        values.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
      }
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return values;
}

// Copies the database at `path` (WAL content included) to a new file `to`, as it is now,
// without disturbing a running intaked; false, with a test failure, on error.
inline bool CopyDatabase(const std::string& path, const std::string& to) {
  sqlite3* from = nullptr;
  sqlite3* copy = nullptr;
  bool ok = sqlite3_open_v2(path.c_str(), &from, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
            sqlite3_open(to.c_str(), &copy) == SQLITE_OK;
  if (ok) {
    sqlite3_busy_timeout(from, 5000);
    sqlite3_backup* backup = sqlite3_backup_init(copy, "main", from, "main");
    ok = backup != nullptr && sqlite3_backup_step(backup, -1) == SQLITE_DONE;
    ok = sqlite3_backup_finish(backup) == SQLITE_OK && ok;
  }
  if (!ok) ADD_FAILURE() << "copying " << path << ": " << sqlite3_errmsg(copy);
  sqlite3_close(copy);
  sqlite3_close(from);
  return ok;
}

// Runs `sql` on the database at `path`, which no server may have open; false (with a test
// failure) on error.
inline bool ExecSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  bool ok = false;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    char* error = nullptr;
    ok = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK;
    if (!ok) ADD_FAILURE() << sql << ": " << (error == nullptr ? "" : error);
    sqlite3_free(error);
  } else {
    ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db);
  }
  sqlite3_close(db);
  return ok;
}

}  // namespace intake::testing

#endif  // INTAKE_TESTS_E2E_DATABASE_H_
