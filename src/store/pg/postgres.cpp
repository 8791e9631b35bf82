// The PostgreSQL adapter (libpq) of the state store's SQL connection: text parameters and
// results, READ COMMITTED write transactions, one reconnection when the server went away
// between transactions, and server notices kept off stderr.
#include <ecluse/core/c_handle.hpp>

#include <libpq-fe.h>

#include "../sql.hpp"

namespace ecluse::store::sql {

namespace {

using PgConn = CHandle<PGconn, PQfinish>;
using PgResult = CHandle<PGresult, PQclear>;

void ignore_notice(void* /*arg*/, const char* /*message*/) {}

tl::unexpected<Error> pg_error(PGconn* c, const PGresult* r, std::string_view what) {
  std::string detail = r != nullptr ? PQresultErrorMessage(r) : "";
  if (detail.empty() && c != nullptr) {
    detail = PQerrorMessage(c);
  }
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) {
    detail.pop_back();
  }
  return fail(reason::k_store_db, "state store (PostgreSQL): " + std::string(what) + ": " + detail);
}

std::string as_text(const Param& p) {
  if (const auto* n = std::get_if<std::int64_t>(&p)) {
    return std::to_string(*n);
  }
  return std::get<std::string>(p);
}

Rows read_rows(const PGresult* r) {
  Rows out;
  const int rows = PQntuples(r);
  const int cols = PQnfields(r);
  out.rows.reserve(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    Row row;
    for (int c = 0; c < cols; ++c) {
      if (PQgetisnull(r, i, c) != 0) {
        row.cols.emplace_back(std::nullopt);
      } else {
        row.cols.emplace_back(
            std::string(PQgetvalue(r, i, c), static_cast<std::size_t>(PQgetlength(r, i, c))));
      }
    }
    out.rows.push_back(std::move(row));
  }
  const std::string changed = PQcmdTuples(const_cast<PGresult*>(r));
  out.changes = changed.empty() ? 0 : std::stoll(changed);
  return out;
}

class PgConnection final : public Connection {
 public:
  explicit PgConnection(PgConn c) : m_conn(std::move(c)) {}

  Result<Rows> query(std::string_view sql, const std::vector<Param>& params) override {
    const auto text = numbered_placeholders(sql);
    std::vector<std::string> values;
    std::vector<const char*> ptrs;
    values.reserve(params.size());
    for (const auto& p : params) {
      values.push_back(std::holds_alternative<std::nullptr_t>(p) ? std::string() : as_text(p));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      ptrs.push_back(std::holds_alternative<std::nullptr_t>(params[i]) ? nullptr
                                                                       : values[i].c_str());
    }
    auto run = [&] {
      return PgResult(PQexecParams(conn(),
                                   text.c_str(),
                                   static_cast<int>(ptrs.size()),
                                   nullptr,
                                   ptrs.data(),
                                   nullptr,
                                   nullptr,
                                   0));
    };
    auto r = run();
    if (!m_in_tx && PQstatus(conn()) == CONNECTION_BAD) {
      PQreset(conn());  // the server restarted or the network blinked: once more, reconnected
      r = run();
    }
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return pg_error(conn(), r.get(), "statement failed");
    }
    return read_rows(r.get());
  }

  Status script(std::string_view sql) override {
    const std::string owned(sql);
    const PgResult r(PQexec(conn(), owned.c_str()));
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return pg_error(conn(), r.get(), "cannot execute '" + owned.substr(0, 40) + "'");
    }
    return {};
  }

  Status begin() override {
    if (PQstatus(conn()) == CONNECTION_BAD) {
      PQreset(conn());
    }
    ECLUSE_CHECK(script("BEGIN ISOLATION LEVEL READ COMMITTED"));
    m_in_tx = true;
    return {};
  }

  Status commit() override {
    m_in_tx = false;
    return script("COMMIT");
  }

  void rollback() override {
    m_in_tx = false;
    (void)script("ROLLBACK");
  }

  [[nodiscard]] Dialect dialect() const override { return Dialect::postgres; }

 private:
  PGconn* conn() { return m_conn.get(); }

  PgConn m_conn;
  bool m_in_tx = false;
};

}  // namespace

Result<std::unique_ptr<Connection>> connect_postgres(const std::string& conninfo) {
  PgConn c(PQconnectdb(conninfo.c_str()));
  if (!c || PQstatus(c.get()) != CONNECTION_OK) {
    return pg_error(c.get(), nullptr, "cannot connect");
  }
  PQsetNoticeProcessor(c.get(), ignore_notice, nullptr);
  return std::unique_ptr<Connection>(std::make_unique<PgConnection>(std::move(c)));
}

}  // namespace ecluse::store::sql
