#include "api/correction_undo.hpp"

namespace splitstream {

std::variant<Correction, UndoRefused> undo_correction(const CorrectionRecord& record) {
  if (record.error) {
    return UndoRefused{"correction " + record.id + " was not applied (" + *record.error +
                       "); there is nothing to undo"};
  }
  if (!record.undone_by.empty()) {
    return UndoRefused{"correction " + record.id + " was undone already by " + record.undone_by};
  }
  const Correction& done = record.correction;
  Correction undo;
  undo.bib = done.bib;
  undo.undo_of = record.id;
  switch (done.kind) {
    case CorrectionKind::set_status:
      if (!record.previous_status) {
        return UndoRefused{"correction " + record.id + " kept no previous status to go back to"};
      }
      undo.kind = CorrectionKind::set_status;
      undo.status = *record.previous_status;
      break;
    case CorrectionKind::add_read:
      // A read entered by hand cannot be deleted from the stream; voiding its instant at its
      // mat takes it out of the runner's times (and any chip read of that very millisecond).
      undo.kind = CorrectionKind::void_reads;
      undo.timing_point = done.timing_point;
      undo.from = undo.to = done.time;
      break;
    case CorrectionKind::void_reads:
    case CorrectionKind::restore_reads:
      undo.kind = done.kind == CorrectionKind::void_reads ? CorrectionKind::restore_reads
                                                          : CorrectionKind::void_reads;
      undo.timing_point = done.timing_point;
      undo.from = done.from;
      undo.to = done.to;
      break;
    case CorrectionKind::move_chip:
      if (!record.previous_holder) {
        return UndoRefused{"correction " + record.id + " kept no previous holder of its chip"};
      }
      undo.kind = CorrectionKind::move_chip;
      undo.chip = done.chip;
      undo.bib = *record.previous_holder;
      break;
  }
  undo.reason = "undo of " + record.id;
  return undo;
}

}  // namespace splitstream
