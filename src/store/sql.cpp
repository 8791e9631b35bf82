// Dialect helpers shared by the SQL adapters.
#include "sql.hpp"

namespace ecluse::store::sql {

std::string numbered_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  bool quoted = false;
  int n = 0;
  for (const char c : sql) {
    if (c == '\'') {
      quoted = !quoted;
    }
    if (c == '?' && !quoted) {
      out += '$' + std::to_string(++n);
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace ecluse::store::sql
