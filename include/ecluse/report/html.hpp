// The per-drop HTML report: one self-contained file (inline CSS and script, no external asset,
// works offline) with a verdict banner, the findings table, the sandbox tests, a sortable change
// list and a chart of size change by top-level folder. Every string from the drop is HTML-escaped.
#pragma once

#include <ecluse/core/json.hpp>

#include <string>

namespace ecluse::report {

// Renders the report from the diff document (schema ecluse.diff/v1, docs/diff-report.md), the
// drop's findings (array of {stage, code, severity, item, detail}) and its verdict
// ({decision, reasons, approvals}; null while none is decided). Never throws; tolerates missing
// fields (shows them empty). tests is the test document (schema ecluse.test/v1,
// docs/test-report.md), or null for a drop not tested yet.
std::string render_html(const json::Json& diff,
                        const json::Json& findings,
                        const json::Json& verdict,
                        const json::Json& tests = nullptr);

}  // namespace ecluse::report
