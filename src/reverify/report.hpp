// Private to src/reverify: writing a run's report (report.json and report.txt in its
// directory under reports/reverify/).
#pragma once

#include <ecluse/reverify/reverify.hpp>

namespace ecluse::reverify::detail {

Status write_report(const pipeline::Session& s, const std::filesystem::path& dir, Report& report);

}  // namespace ecluse::reverify::detail
