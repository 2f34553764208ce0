// Standings as a results document: JSON for programs, CSV for spreadsheets.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/projection.hpp"
#include "engine/race_engine.hpp"

namespace splitstream {

struct ReportOptions {
  std::string race;                                          // empty: every race
  std::string category = std::string(RaceEngine::kOverall);  // rank and order by this category
  // Races whose runners are left out (the live server's races before their gun).
  std::vector<std::string> left_out;
};

// {"event":ID,"races":[{"id","name","category","standings":[row...]}],"unknown_chips":[...],
//  "reads":{counters}}. Ranked runners first in rank order, then unranked ones (DNF, DSQ, not
// started), each row with rank, bib, name, status, last_split, times, gap, pace, splits, flags.
boost::json::value results_json(const RaceEngine& engine, const ReportOptions& options = {});
// One row per runner: race, rank, bib, name, ..., then one column per split id (the union of
// the races' split ids, in course order) holding the time the race ranks by.
std::string results_csv(const RaceEngine& engine, const ReportOptions& options = {});
// The order a report lists a race's runners in (see results_json).
std::vector<RunnerIndex> report_order(const RaceEngine& engine, RaceIndex race,
                                      std::string_view category);
boost::json::value flag_json(const Race& race, const Flag& flag);

}  // namespace splitstream
