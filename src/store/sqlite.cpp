// The SQLite adapter of the state store's SQL connection: WAL, a busy timeout, full fsync, and
// every status turned into an Error at once.
#include <ecluse/core/c_handle.hpp>

#include <charconv>
#include <sqlite3.h>

#include "sql.hpp"

namespace ecluse::store::sql {

std::int64_t Row::integer(std::size_t i) const {
  const auto& v = cols.at(i);
  std::int64_t out = 0;
  if (v) {
    std::from_chars(v->data(), v->data() + v->size(), out);
  }
  return out;
}

namespace {

using Db = CHandle<sqlite3, sqlite3_close_v2>;
using StmtHandle = CHandle<sqlite3_stmt, sqlite3_finalize>;

tl::unexpected<Error> db_error(sqlite3* db, std::string_view what) {
  const std::string detail = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  return fail(reason::k_store_db, "state store: " + std::string(what) + ": " + detail);
}

bool bind(sqlite3_stmt* s, int index, const Param& p) {
  if (const auto* text = std::get_if<std::string>(&p)) {
    return sqlite3_bind_text(
               s, index, text->data(), static_cast<int>(text->size()), SQLITE_TRANSIENT)
           == SQLITE_OK;
  }
  if (const auto* n = std::get_if<std::int64_t>(&p)) {
    return sqlite3_bind_int64(s, index, *n) == SQLITE_OK;
  }
  return sqlite3_bind_null(s, index) == SQLITE_OK;
}

Row read_row(sqlite3_stmt* s) {
  Row row;
  const int n = sqlite3_column_count(s);
  row.cols.reserve(static_cast<std::size_t>(n));
  for (int c = 0; c < n; ++c) {
    const auto* p = sqlite3_column_text(s, c);
    if (p == nullptr) {
      row.cols.emplace_back(std::nullopt);
      continue;
    }
    row.cols.emplace_back(std::string(reinterpret_cast<const char*>(p),
                                      static_cast<std::size_t>(sqlite3_column_bytes(s, c))));
  }
  return row;
}

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(Db db) : m_db(std::move(db)) {}

  Result<Rows> query(std::string_view sql, const std::vector<Param>& params) override {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr)
        != SQLITE_OK) {
      return db_error(db(), "cannot prepare statement");
    }
    const StmtHandle stmt(raw);
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (!bind(raw, static_cast<int>(i + 1), params[i])) {
        return db_error(db(), "cannot bind parameter");
      }
    }
    Rows out;
    for (;;) {
      const int rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) {
        out.changes = sqlite3_changes(db());
        return out;
      }
      if (rc != SQLITE_ROW) {
        return db_error(db(), "statement failed");
      }
      out.rows.push_back(read_row(raw));
    }
  }

  Status script(std::string_view sql) override {
    const std::string owned(sql);
    if (sqlite3_exec(db(), owned.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      return db_error(db(), "cannot execute '" + owned.substr(0, 40) + "'");
    }
    return {};
  }

  Status begin() override { return script("BEGIN IMMEDIATE"); }

  Status commit() override { return script("COMMIT"); }

  void rollback() override { sqlite3_exec(db(), "ROLLBACK", nullptr, nullptr, nullptr); }

  [[nodiscard]] Dialect dialect() const override { return Dialect::sqlite; }

 private:
  sqlite3* db() { return m_db.get(); }

  Db m_db;
};

}  // namespace

Result<std::unique_ptr<Connection>> connect_sqlite(const std::string& path,
                                                   std::uint32_t busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(),
                                 &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
                                 nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return db_error(raw, "cannot open '" + path + "'");
  }
  sqlite3_busy_timeout(db.get(), static_cast<int>(busy_timeout_ms));
  auto conn = std::make_unique<SqliteConnection>(std::move(db));
  ECLUSE_CHECK(conn->script("PRAGMA journal_mode=WAL"));
  ECLUSE_CHECK(conn->script("PRAGMA synchronous=FULL"));
  ECLUSE_CHECK(conn->script("PRAGMA foreign_keys=ON"));
  return std::unique_ptr<Connection>(std::move(conn));
}

}  // namespace ecluse::store::sql
