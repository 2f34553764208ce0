// The corrections log: who did what and when, and what it did to each runner; filters by who,
// kind and bib; the filtered log as CSV (the server writes it); undo of a correction.
import { el } from "../lib/dom";
import { formatDuration } from "../lib/format";
import type { CorrectionRecord } from "./console_api";
import type { ConsoleContext, Panel } from "./context";
import { describeCorrection, describeEffect } from "./corrections";
import { correctionsPath, type CorrectionFilters } from "./csv";
import { button, gate, KeyedRows, PanelState } from "./ui";

const KINDS = ["set_status", "add_read", "void_reads", "restore_reads", "move_chip"];
const LIMIT = 500;

export class CorrectionsPanel implements Panel {
  readonly id = "corrections";
  readonly element: HTMLElement;
  private readonly rows: KeyedRows;
  private readonly state: PanelState;
  private readonly by = el("input", { type: "search", placeholder: "who", "aria-label": "Made by", "data-testid": "filter-by" });
  private readonly kind = el("select", { "aria-label": "Kind", "data-testid": "filter-kind" },
    el("option", { value: "" }, "every kind"), ...KINDS.map((k) => el("option", { value: k }, k.replace(/_/g, " "))));
  private readonly bib = el("input", { type: "search", inputmode: "numeric", placeholder: "bib", size: 6, "aria-label": "Bib", "data-testid": "filter-bib" });
  private readonly csv = el("a", { class: "button-link", download: "corrections.csv", "data-testid": "export-csv" }, "Export CSV");
  private readonly total = el("span", { class: "muted" });
  private filters: CorrectionFilters = {};

  constructor(private readonly ctx: ConsoleContext) {
    const stateLine = el("span", { class: "panel-state" });
    const form = el("form", { class: "toolbar" }, this.by, this.kind, this.bib, button("Filter", { type: "submit" }), this.csv, this.total);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.applyFilters();
    });
    this.kind.addEventListener("change", () => this.applyFilters());
    const body = el("tbody", { "data-testid": "corrections-body" });
    this.element = el("div", {},
      el("div", { class: "panel-head" }, el("h2", {}, "Corrections log"), stateLine),
      form,
      el("div", { class: "table-scroll" },
        el("table", { class: "console-table corrections", "data-testid": "corrections" },
          el("thead", {}, el("tr", {}, ...["When", "Who", "What", "Reason", "Effect", "State", ""].map((h) => el("th", {}, h)))),
          body)));
    this.rows = new KeyedRows(body);
    this.state = new PanelState(stateLine);
    this.updateCsvLink();
  }

  private applyFilters(): void {
    this.filters = { by: this.by.value, kind: this.kind.value, bib: this.bib.value };
    this.updateCsvLink();
    void this.refresh().catch(() => {});
  }

  private updateCsvLink(): void {
    this.csv.href = correctionsPath(this.filters, "csv");
  }

  async refresh(): Promise<void> {
    try {
      const body = await this.ctx.api.corrections({ ...this.filters, limit: LIMIT });
      const records = [...body.corrections].reverse();  // newest first
      this.total.textContent = `${records.length}${body.total !== undefined && body.total > records.length ? ` of ${body.total}` : ""} shown`;
      this.rows.update(records.map((r) => ({ key: r.id, signature: JSON.stringify(r), build: () => this.row(r) })));
      this.state.ok(this.ctx.time(Date.now()));
    } catch (error) {
      this.state.failed(error);
      throw error;
    }
  }

  private row(r: CorrectionRecord): HTMLTableRowElement {
    const c = r.correction ?? {};
    const what = describeCorrection(c, this.ctx.event.utc_offset_minutes, (id) => this.ctx.tpName(id));
    const effects = describeEffect(r.effect, (ms) => formatDuration(ms));
    const by = r.by ?? (typeof c.by === "string" ? c.by : "");
    const state = !r.applied
      ? el("span", { class: "error" }, `not applied${r.error ? `: ${r.error}` : ""}`)
      : r.undone_by
        ? el("span", { class: "muted" }, `undone by ${r.undone_by}`)
        : el("span", {}, "applied");
    const key = `undo:${r.id}`;
    const actions: HTMLElement[] = [];
    if (r.applied && !r.undone_by) {
      const undo = button("Undo", { "data-action": "undo" });
      undo.addEventListener("click", () => void this.ctx.undo(key, r.id, what));
      actions.push(gate(undo, "correct", this.ctx.role));
    }
    return el("tr", { "data-id": r.id, "data-kind": String(c.kind ?? ""), "data-bib": typeof c.bib === "string" ? c.bib : "", class: r.undone_by ? "undone" : "" },
      el("td", { title: r.id }, this.ctx.time(r.recorded_ms ?? idTime(r.id))),
      el("td", { "data-testid": "correction-by" }, by),
      el("td", { class: "wrap" }, what),
      el("td", { class: "reason" }, typeof c.reason === "string" ? c.reason : ""),
      el("td", { class: "effect" }, ...effects.flatMap((e, i) => (i ? [el("br"), e] : [e]))),
      el("td", {}, state),
      el("td", { class: "actions" }, ...actions, this.ctx.messages.view(key)));
  }
}

// A Redis stream id ("1743896522123-0") starts with the time it was recorded.
function idTime(id: string): number {
  const ms = Number(id.split("-")[0]);
  return Number.isFinite(ms) ? ms : 0;
}
