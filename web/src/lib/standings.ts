// A standings page kept in step with the server: a snapshot, then deltas that apply only to the
// version they were made from (docs/websocket.md).
import type { StandingsDelta, StandingsRow, StandingsSnapshot } from "../gen/splitstream/v1/live_pb";

export class StandingsPage {
  version = 0n;
  offset = 0;
  total = 0;
  rows: StandingsRow[] = [];
  loaded = false;

  applySnapshot(s: StandingsSnapshot): void {
    this.version = s.version;
    this.offset = s.offset;
    this.total = s.total;
    this.rows = [...s.rows];
    this.loaded = true;
  }

  // False when the delta is not for the version held (then ask for a snapshot).
  applyDelta(d: StandingsDelta): boolean {
    if (!this.loaded || d.fromVersion !== this.version) return false;
    const byBib = new Map(this.rows.map((r) => [r.bib, r]));
    for (const bib of d.removedBibs) byBib.delete(bib);
    for (const row of d.upserted) byBib.set(row.bib, row);
    this.rows = [...byBib.values()].sort((a, b) => a.rank - b.rank || a.bib.localeCompare(b.bib));
    this.version = d.toVersion;
    this.total = d.total;
    return true;
  }
}
