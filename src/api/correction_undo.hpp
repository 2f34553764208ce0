// Undoing an official's correction: the correction that takes a recorded one back, built from
// what the log kept of it (the chip's previous holder, the runner's previous status). Pure.
#pragma once

#include <string>
#include <variant>

#include "pipeline/correction_log.hpp"

namespace splitstream {

struct UndoRefused {
  std::string message;  // why this record cannot be undone
};

// The inverse of `record` (its `undo_of` set to the record's id):
//   set_status -> the status it replaced      void_reads <-> restore_reads of the same window
//   move_chip  -> the chip back to its holder  add_read   -> a void of that instant at that mat
// Refused for a record that was not applied or that a later correction undid already.
std::variant<Correction, UndoRefused> undo_correction(const CorrectionRecord& record);

}  // namespace splitstream
