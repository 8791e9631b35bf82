// SQLite statement and transaction helpers: every status is turned into an Error at once.
#include "sqlite.hpp"

namespace ecluse::store::sqlite {

tl::unexpected<Error> db_error(sqlite3* db, std::string_view what) {
  const std::string detail = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  return fail(reason::k_store_db, "state store: " + std::string(what) + ": " + detail);
}

Result<Stmt> Stmt::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr)
      != SQLITE_OK) {
    return db_error(db, "cannot prepare statement");
  }
  return Stmt(db, StmtHandle(raw));
}

Stmt& Stmt::bind(int index, std::string_view text) {
  if (sqlite3_bind_text(
          m_stmt.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT)
      != SQLITE_OK) {
    m_bind_failed = true;
  }
  return *this;
}

Stmt& Stmt::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(m_stmt.get(), index, value) != SQLITE_OK) {
    m_bind_failed = true;
  }
  return *this;
}

Stmt& Stmt::bind_null(int index) {
  if (sqlite3_bind_null(m_stmt.get(), index) != SQLITE_OK) {
    m_bind_failed = true;
  }
  return *this;
}

Result<bool> Stmt::step() {
  if (m_bind_failed) {
    return db_error(m_db, "cannot bind parameter");
  }
  const int rc = sqlite3_step(m_stmt.get());
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return db_error(m_db, "statement failed");
}

Status Stmt::run() {
  for (;;) {
    ECLUSE_TRY(more, step());
    if (!more) {
      return {};
    }
  }
}

std::string Stmt::text(int col) const {
  return text_or_null(col).value_or("");
}

std::optional<std::string> Stmt::text_or_null(int col) const {
  const auto* p = sqlite3_column_text(m_stmt.get(), col);
  if (p == nullptr) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<std::size_t>(sqlite3_column_bytes(m_stmt.get(), col)));
}

std::int64_t Stmt::integer(int col) const {
  return sqlite3_column_int64(m_stmt.get(), col);
}

Status exec(sqlite3* db, std::string_view sql) {
  const std::string owned(sql);
  if (sqlite3_exec(db, owned.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return db_error(db, "cannot execute '" + owned.substr(0, 40) + "'");
  }
  return {};
}

Result<Transaction> Transaction::begin(sqlite3* db) {
  ECLUSE_CHECK(exec(db, "BEGIN IMMEDIATE"));
  return Transaction(db);
}

Transaction::~Transaction() {
  if (m_db != nullptr) {
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Status Transaction::commit() {
  ECLUSE_CHECK(exec(m_db, "COMMIT"));
  m_db = nullptr;
  return {};
}

}  // namespace ecluse::store::sqlite
