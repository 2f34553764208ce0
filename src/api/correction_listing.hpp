// The corrections log as the admin API lists it (GET /api/v1/admin/corrections): filtered by who,
// kind or bib, as JSON or CSV, each record with its effect on the runners it touched and whether
// it was undone. Pure; called on the engine strand, where the log lives.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/correction_log.hpp"

namespace splitstream {

struct CorrectionFilter {
  std::size_t limit = 1000;  // the last `limit` records that match
  std::string by;            // exact official's name; empty: anyone
  std::optional<CorrectionKind> kind;
  std::string bib;  // the correction's bib, a runner it touched, or a moved chip's old holder
};

// From the query string (by, kind, bib, limit); an error names the bad parameter.
std::optional<std::string> parse_correction_filter(std::string_view query, CorrectionFilter& out);

// {"corrections":[{"id","recorded_ms","recorded_at","applied","error"?,"correction":{...},
// "effect":{"runners":[{"bib","before":{...},"after":{...}}]},"undone_by","undo_of"}...],
// "total":N,"matched":M}: oldest first.
std::string corrections_json(const CorrectionLog& log, const CorrectionFilter& filter,
                             int utc_offset_minutes);

// The same records as CSV, one per line with a header, for a spreadsheet or the record.
std::string corrections_csv(const CorrectionLog& log, const CorrectionFilter& filter,
                            int utc_offset_minutes);

}  // namespace splitstream
