// The standings table, updated in place: rows are kept per bib and moved, cells change only
// when their text does, so a delta never rebuilds the table (no flicker, no scroll jump).
import type { StandingsRow } from "../gen/splitstream/v1/live_pb";
import { RunnerStatus } from "../gen/splitstream/v1/live_pb";
import { el, setText } from "../lib/dom";
import { describeFlag, formatDuration, formatGap, formatPace } from "../lib/format";

const COLUMNS = ["rank", "change", "bib", "name", "country", "split", "time", "pace", "gap", "projected", "flags"] as const;
type Column = (typeof COLUMNS)[number];
const NUMERIC = new Set<Column>(["rank", "change", "bib", "time", "pace", "gap", "projected"]);
const FLASH_MS = 4000;
// Gaining or losing this many places at a split makes a runner a mover.
export const MOVER_PLACES = 3;

interface RowView {
  tr: HTMLTableRowElement;
  cells: Record<Column, HTMLTableCellElement>;
  rank: number;
  flashTimer?: ReturnType<typeof setTimeout>;
}

export class StandingsTable {
  private readonly rows = new Map<string, RowView>();
  rankBy: "gun" | "chip" = "gun";
  finishSplitId = "";

  constructor(private readonly body: HTMLTableSectionElement) {}

  clear(): void {
    this.rows.clear();
    this.body.replaceChildren();
  }

  render(rows: StandingsRow[]): void {
    const keep = new Set(rows.map((r) => r.bib));
    for (const [bib, view] of this.rows) {
      if (!keep.has(bib)) {
        view.tr.remove();
        this.rows.delete(bib);
      }
    }
    let previous: HTMLTableRowElement | null = null;
    for (const row of rows) {
      let view = this.rows.get(row.bib);
      if (!view) {
        view = this.create(row.bib);
        this.rows.set(row.bib, view);
      } else if (view.rank !== row.rank && view.rank !== 0 && row.rank !== 0) {
        this.flash(view, row.rank < view.rank ? "up" : "down");
      }
      view.rank = row.rank;
      this.fill(view, row);
      // Move the row only when it is out of place.
      const expected: ChildNode | null = previous ? previous.nextSibling : this.body.firstChild;
      if (expected !== view.tr) this.body.insertBefore(view.tr, expected);
      previous = view.tr;
    }
  }

  private create(bib: string): RowView {
    const tr = el("tr", { "data-bib": bib });
    const cells = {} as Record<Column, HTMLTableCellElement>;
    for (const c of COLUMNS) {
      cells[c] = el("td", { class: `col-${c}${NUMERIC.has(c) ? " num" : ""}` });
      tr.append(cells[c]);
    }
    return { tr, cells, rank: 0 };
  }

  private flash(view: RowView, direction: "up" | "down"): void {
    view.tr.classList.remove("flash-up", "flash-down");
    void view.tr.offsetWidth;  // restart the animation
    view.tr.classList.add(`flash-${direction}`);
    if (view.flashTimer) clearTimeout(view.flashTimer);
    view.flashTimer = setTimeout(() => view.tr.classList.remove("flash-up", "flash-down"), FLASH_MS);
  }

  private fill(view: RowView, row: StandingsRow): void {
    const c = view.cells;
    setText(c.rank, row.rank ? String(row.rank) : "–");
    const change = row.rankChange;
    setText(c.change, change > 0 ? `▲${change}` : change < 0 ? `▼${-change}` : "");
    c.change.className = `col-change num${change > 0 ? " gain" : change < 0 ? " loss" : ""}`;
    view.tr.classList.toggle("mover", Math.abs(change) >= MOVER_PLACES);
    setText(c.bib, row.bib);
    setText(c.name, row.name);
    setText(c.country, row.country);
    setText(c.split, row.lastSplitId);
    const time = Number(this.rankBy === "chip" ? row.chipTimeMs : row.gunTimeMs);
    setText(c.time, row.lastSplitId ? formatDuration(time) : "");
    setText(c.pace, formatPace(row.paceSPerKm));
    setText(c.gap, row.rank === 1 ? "" : formatGap(Number(row.gapMs)));
    const finished = row.status === RunnerStatus.FINISHED;
    const projected = Number(row.projectedFinishMs);
    setText(c.projected, projected > 0 ? `${finished ? "" : "~"}${formatDuration(projected)}` : "");
    c.projected.classList.toggle("final", finished);
    view.tr.classList.toggle("finished", finished);
    const flagText = row.flags.map((f) => describeFlag(f).label).join(" ");
    if (c.flags.dataset.flags !== row.flags.join(",")) {
      c.flags.dataset.flags = row.flags.join(",");
      c.flags.replaceChildren(
        ...row.flags.map((f) => {
          const d = describeFlag(f);
          return el("span", { class: "flag", title: d.title }, d.label);
        }),
      );
      c.flags.title = flagText;
    }
  }
}
