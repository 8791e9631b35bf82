// Private to the HTML report: the sections rendered outside html.cpp, each appending one
// <section> whose every string from the drop is escaped.
#pragma once

#include <ecluse/core/json.hpp>

#include <string>

namespace ecluse::report::detail {

// The findings table, most severe first (capped).
void put_findings(std::string& out, const json::Json& findings);

// The inline SVG bar chart of by_folder's size deltas (largest folders when capped).
void put_chart(std::string& out, const json::Json& folders);

// The sortable change list (capped, with a note saying how many rows are left out).
void put_changes(std::string& out, const json::Json& changes);

// The sandbox tests table: each suite command's real-clock and shifted runs (test.json).
void put_tests(std::string& out, const json::Json& tests);

// The endpoints table (capped).
void put_endpoints(std::string& out, const json::Json& endpoints);

}  // namespace ecluse::report::detail
