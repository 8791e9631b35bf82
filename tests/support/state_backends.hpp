// The two state-store backends for parameterised tests (TEST_CASE_TEMPLATE): SQLite in a
// temporary directory, and PostgreSQL in a fresh schema of the throwaway test cluster that
// ctest starts (scripts/pg-cluster.sh; its connection string in ECLUSE_TEST_PG).
#pragma once

#include <ecluse/store/state_store.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "store/sql.hpp"
#include "support/support.hpp"

namespace ecluse::test {

struct SqliteBackend {
  TempDir dir;

  [[nodiscard]] std::unique_ptr<store::StateStore> open() const {
    return store::open_sqlite(dir / "state.db", 5000).value();
  }
};

struct PostgresBackend {
  static std::string server() {
    const char* env = std::getenv("ECLUSE_TEST_PG");
    if (env == nullptr || *env == '\0') {
      FAIL(
          "ECLUSE_TEST_PG is not set: run the tests through ctest, which starts a throwaway "
          "PostgreSQL cluster (scripts/pg-cluster.sh)");
    }
    return env;
  }

  std::string base = server();
  std::string schema =
      "t" + std::to_string(std::random_device{}()) + "_" + std::to_string(std::random_device{}());

  PostgresBackend() {
    auto c = store::sql::connect_postgres(base);
    REQUIRE_MESSAGE(c.has_value(), (c ? std::string() : c.error().message));
    REQUIRE((*c)->script("CREATE SCHEMA " + schema).has_value());
  }

  PostgresBackend(const PostgresBackend&) = delete;
  PostgresBackend& operator=(const PostgresBackend&) = delete;
  PostgresBackend(PostgresBackend&&) = delete;
  PostgresBackend& operator=(PostgresBackend&&) = delete;

  ~PostgresBackend() {
    if (auto c = store::sql::connect_postgres(base)) {
      (void)(*c)->script("DROP SCHEMA " + schema + " CASCADE");
    }
  }

  // The test cluster's connection string (a URL) with this schema first on the search path.
  [[nodiscard]] std::string conninfo() const {
    const char* sep = base.find('?') == std::string::npos ? "?" : "&";
    return base + sep + "options=-csearch_path%3D" + schema;
  }

  [[nodiscard]] std::unique_ptr<store::StateStore> open() const {
    auto st = store::open_postgres(conninfo());
    REQUIRE_MESSAGE(st.has_value(), (st ? std::string() : st.error().message));
    return std::move(*st);
  }
};

}  // namespace ecluse::test

TYPE_TO_STRING(ecluse::test::SqliteBackend);
TYPE_TO_STRING(ecluse::test::PostgresBackend);
