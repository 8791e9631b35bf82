// The SQL the state store speaks, over either backend: a connection runs one statement with
// positional parameters ('?') and returns every row as text, or NULL. Both adapters (SQLite in
// this folder, libpq in pg/) implement it, so the state store's logic is written once and the
// two backends cannot drift. Dialect differences are named here, never spelled in a caller.
#pragma once

#include <ecluse/core/error.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ecluse::store::sql {

using Param = std::variant<std::nullptr_t, std::int64_t, std::string>;

struct Row {
  std::vector<std::optional<std::string>> cols;

  [[nodiscard]] std::string text(std::size_t i) const { return cols.at(i).value_or(""); }

  [[nodiscard]] std::optional<std::string> text_or_null(std::size_t i) const { return cols.at(i); }

  [[nodiscard]] std::int64_t integer(std::size_t i) const;
};

struct Rows {
  std::vector<Row> rows;
  std::int64_t changes = 0;  // rows inserted, updated or deleted by the statement
};

enum class Dialect { sqlite, postgres };

class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&&) = delete;
  Connection& operator=(Connection&&) = delete;
  virtual ~Connection() = default;

  // One statement, '?' placeholders bound in order.
  virtual Result<Rows> query(std::string_view sql, const std::vector<Param>& params) = 0;
  // Several statements without parameters (migrations).
  virtual Status script(std::string_view sql) = 0;
  // A write transaction: SQLite takes the write lock at once (BEGIN IMMEDIATE), PostgreSQL
  // begins a READ COMMITTED transaction whose writers lock the rows they touch.
  virtual Status begin() = 0;
  virtual Status commit() = 0;
  virtual void rollback() = 0;
  [[nodiscard]] virtual Dialect dialect() const = 0;
};

// A transaction that rolls back on destruction unless committed.
class Tx {
 public:
  static Result<Tx> begin(Connection& c) {
    ECLUSE_CHECK(c.begin());
    return Tx(c);
  }

  Tx(Tx&& other) noexcept : m_conn(other.m_conn) { other.m_conn = nullptr; }

  Tx& operator=(Tx&&) = delete;
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;

  ~Tx() {
    if (m_conn != nullptr) {
      m_conn->rollback();
    }
  }

  Status commit() {
    auto* c = m_conn;
    m_conn = nullptr;
    return c->commit();
  }

 private:
  explicit Tx(Connection& c) : m_conn(&c) {}

  Connection* m_conn;
};

// '?' placeholders as PostgreSQL's $1, $2, … (quoted text is left alone).
std::string numbered_placeholders(std::string_view sql);

Result<std::unique_ptr<Connection>> connect_sqlite(const std::string& path,
                                                   std::uint32_t busy_timeout_ms);
// conninfo: a libpq connection string ("postgresql://…" or "host=… dbname=…").
Result<std::unique_ptr<Connection>> connect_postgres(const std::string& conninfo);

}  // namespace ecluse::store::sql
