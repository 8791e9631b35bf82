// Private SQLite helpers for the state store: owned handles, statements, transactions.
#pragma once

#include <ecluse/core/c_handle.hpp>
#include <ecluse/core/error.hpp>

#include <cstdint>
#include <optional>
#include <sqlite3.h>
#include <string>
#include <string_view>

namespace ecluse::store::sqlite {

using Db = CHandle<sqlite3, sqlite3_close_v2>;
using StmtHandle = CHandle<sqlite3_stmt, sqlite3_finalize>;

tl::unexpected<Error> db_error(sqlite3* db, std::string_view what);

// A prepared statement with positional binding (1-based) and row stepping.
class Stmt {
 public:
  static Result<Stmt> prepare(sqlite3* db, std::string_view sql);
  Stmt& bind(int index, std::string_view text);
  Stmt& bind(int index, std::int64_t value);
  Stmt& bind_null(int index);
  // true when a row is available, false when done.
  Result<bool> step();
  // Runs to completion.
  Status run();
  [[nodiscard]] std::string text(int col) const;
  [[nodiscard]] std::optional<std::string> text_or_null(int col) const;
  [[nodiscard]] std::int64_t integer(int col) const;

 private:
  Stmt(sqlite3* db, StmtHandle stmt) : m_db(db), m_stmt(std::move(stmt)) {}

  sqlite3* m_db;
  StmtHandle m_stmt;
  bool m_bind_failed = false;
};

Status exec(sqlite3* db, std::string_view sql);

// BEGIN IMMEDIATE … COMMIT; rolls back on destruction unless committed.
class Transaction {
 public:
  static Result<Transaction> begin(sqlite3* db);

  Transaction(Transaction&& other) noexcept : m_db(other.m_db) { other.m_db = nullptr; }

  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(sqlite3* db) : m_db(db) {}

  sqlite3* m_db;
};

}  // namespace ecluse::store::sqlite
