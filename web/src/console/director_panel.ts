// The race director: each race and wave at a glance (entered, started, on the course, finished,
// out), the runners overdue at their next mat, the sweep (who is still out behind each split)
// and the cut-offs with the runners projected to miss them.
import { el, setText } from "../lib/dom";
import { formatDuration } from "../lib/format";
import type { Counts, CutoffsBody, OverdueBody, OverviewBody, SweepBody, SweepSplits } from "./console_api";
import type { ConsoleContext, Panel } from "./context";
import { csvFileName, toCsv, type CsvValue } from "./csv";
import { formatAgo } from "./format";
import { button, errorText, KeyedRows } from "./ui";

const MARGINS_MIN = [1, 2, 5, 10, 15, 30, 60];
const COUNT_COLUMNS: [keyof Counts, string][] = [
  ["entered", "Entered"], ["started", "Started"], ["on_course", "On course"], ["finished", "Finished"],
  ["dnf", "DNF"], ["dsq", "DSQ"], ["dns", "DNS"], ["not_yet_seen", "Not yet seen"],
];

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export class DirectorPanel implements Panel {
  readonly id = "director";
  readonly element: HTMLElement;
  private readonly overviewBody = el("tbody", { "data-testid": "overview-body" });
  private readonly overdueRows: KeyedRows;
  private readonly overdueRace: HTMLSelectElement;
  private readonly margin: HTMLSelectElement;
  private readonly overdueNote = el("span", { class: "muted", "data-testid": "overdue-note" });
  private readonly sweepRace: HTMLSelectElement;
  private readonly sweepSplitsBody = el("tbody", { "data-testid": "sweep-splits" });
  private readonly sweepRunners = el("div", { class: "sweep-runners", "data-testid": "sweep-runners" });
  private readonly cutoffsBody = el("tbody", { "data-testid": "cutoffs-body" });
  private readonly states: Record<"overview" | "overdue" | "sweep" | "cutoffs", HTMLElement>;
  private readonly overdueCsv = button("Export CSV", { "data-testid": "overdue-csv", disabled: true });
  private readonly sweepCsv = button("Export CSV", { "data-testid": "sweep-csv", disabled: true, title: "Show a split's runners first" });
  private sweepSplit = "";
  private overdue: OverdueBody | undefined;
  private sweep: SweepBody | undefined;

  constructor(private readonly ctx: ConsoleContext) {
    const races = () => ctx.event.races.map((r) => el("option", { value: r.id }, r.name));
    this.overdueRace = el("select", { "aria-label": "Race", "data-testid": "overdue-race" }, el("option", { value: "" }, "every race"), ...races());
    this.margin = el("select", { "aria-label": "Margin", "data-testid": "overdue-margin" },
      ...MARGINS_MIN.map((m) => el("option", { value: String(m * 60) }, `more than ${m} min late`)));
    this.margin.value = String(ctx.settings.overdueMarginS);
    for (const select of [this.overdueRace, this.margin]) {
      select.addEventListener("change", () => {
        ctx.settings.overdueMarginS = Number(this.margin.value);
        void this.refreshOverdue();
      });
    }
    this.sweepRace = el("select", { "aria-label": "Race", "data-testid": "sweep-race" }, ...races());
    this.sweepRace.addEventListener("change", () => {
      this.sweepSplit = "";
      void this.refreshSweep();
    });
    this.overdueCsv.addEventListener("click", () => this.exportOverdue());
    this.sweepCsv.addEventListener("click", () => this.exportSweep());
    const overdueBody = el("tbody", { "data-testid": "overdue-body" });
    this.overdueRows = new KeyedRows(overdueBody);
    const stateLine = () => el("span", { class: "panel-state" });
    this.states = { overview: stateLine(), overdue: stateLine(), sweep: stateLine(), cutoffs: stateLine() };
    const th = (h: string, num = false) => el("th", { class: num ? "num" : "" }, h);

    this.element = el("div", { class: "director" },
      el("div", { class: "panel-head" }, el("h2", {}, "Race director")),
      el("section", { class: "card" },
        el("div", { class: "panel-head" }, el("h3", {}, "Races and waves"), this.states.overview),
        el("div", { class: "table-scroll" }, el("table", { class: "console-table", "data-testid": "overview" },
          el("thead", {}, el("tr", {}, th("Race / wave"), th("Gun"), ...COUNT_COLUMNS.map(([, h]) => th(h, true)))),
          this.overviewBody))),
      el("section", { class: "card" },
        el("div", { class: "panel-head" }, el("h3", {}, "Overdue at their next mat"), this.states.overdue),
        el("div", { class: "toolbar" }, this.overdueRace, this.margin, this.overdueCsv, this.overdueNote),
        el("div", { class: "table-scroll" }, el("table", { class: "console-table", "data-testid": "overdue" },
          el("thead", {}, el("tr", {}, th("Bib"), th("Name"), th("Race"), th("Overdue by", true), th("Next split"), th("Expected"),
            th("Last split"), th("Last seen"), th("Place there", true))),
          overdueBody))),
      el("section", { class: "card" },
        el("div", { class: "panel-head" }, el("h3", {}, "Sweep"), this.states.sweep),
        el("div", { class: "toolbar" }, this.sweepRace, this.sweepCsv),
        el("div", { class: "table-scroll" }, el("table", { class: "console-table", "data-testid": "sweep" },
          el("thead", {}, el("tr", {}, th("Split"), th("Mat"), th("Passed", true), th("Still out", true), th(""))),
          this.sweepSplitsBody)),
        this.sweepRunners),
      el("section", { class: "card" },
        el("div", { class: "panel-head" }, el("h3", {}, "Cut-offs"), this.states.cutoffs),
        el("div", { class: "table-scroll" }, el("table", { class: "console-table", "data-testid": "cutoffs" },
          el("thead", {}, el("tr", {}, ...["Race", "Split", "Wave", "Cut-off", "Passed", "Passed late", "Projected to miss"].map((h) => th(h)))),
          this.cutoffsBody))));
  }

  async refresh(): Promise<void> {
    const results = await Promise.allSettled([this.refreshOverview(), this.refreshOverdue(), this.refreshSweep(), this.refreshCutoffs()]);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  private ok(which: keyof DirectorPanel["states"]): void {
    this.states[which].dataset.state = "ok";
    setText(this.states[which], `updated ${this.ctx.time(Date.now())}`);
  }

  private failed(which: keyof DirectorPanel["states"], error: unknown): never {
    this.states[which].dataset.state = "error";
    setText(this.states[which], `not updated: ${errorText(error)}`);
    throw error;
  }

  private async refreshOverview(): Promise<void> {
    let body: OverviewBody;
    try {
      body = await this.ctx.api.overview();
    } catch (error) {
      this.failed("overview", error);
    }
    const counts = (c: Counts) => COUNT_COLUMNS.map(([k]) => el("td", { class: "num" }, String(c[k] ?? "")));
    this.overviewBody.replaceChildren(...body.races.flatMap((r) => [
      el("tr", { class: "race-row", "data-race": r.race }, el("td", { class: "strong" }, r.name || this.ctx.raceName(r.race)), el("td", {}, this.ctx.time(r.gun_ms)), ...counts(r)),
      ...(r.waves.length > 1
        ? r.waves.map((w) => el("tr", { class: "wave-row", "data-race": r.race, "data-wave": w.wave }, el("td", {}, `wave ${w.wave}`), el("td", {}, this.ctx.time(w.gun_ms)), ...counts(w)))
        : []),
    ]));
    this.ok("overview");
  }

  private async refreshOverdue(): Promise<void> {
    let body: OverdueBody;
    try {
      body = await this.ctx.api.overdue(this.overdueRace.value, Number(this.margin.value));
    } catch (error) {
      this.failed("overdue", error);
    }
    this.overdue = body;
    this.overdueCsv.disabled = body.runners.length === 0;
    setText(this.overdueNote, `${body.runners.length} runner${body.runners.length === 1 ? "" : "s"}`);
    this.overdueRows.update(body.runners.map((r) => ({
      key: r.bib,
      signature: JSON.stringify([r, body.now_ms]),
      build: () => el("tr", { "data-bib": r.bib },
        el("td", { class: "strong" }, r.bib), el("td", {}, r.name), el("td", {}, this.ctx.raceName(r.race)),
        el("td", { class: "num strong" }, formatDuration(r.overdue_ms, true)),
        el("td", {}, r.next_split ?? ""),
        el("td", {}, this.ctx.time(r.expected_ms)),
        el("td", {}, r.last_split ?? "–"),
        el("td", {}, r.last_seen_ms ? `${this.ctx.time(r.last_seen_ms)} (${formatAgo(body.now_ms - r.last_seen_ms)})` : "never"),
        el("td", { class: "num" }, r.last_place ? `#${r.last_place}` : "")),
    })));
    this.ok("overdue");
  }

  private async refreshSweep(): Promise<void> {
    const race = this.sweepRace.value;
    let splits: SweepSplits;
    let detail: SweepBody | undefined;
    try {
      [splits, detail] = await Promise.all([
        this.ctx.api.sweepSplits(race),
        this.sweepSplit ? this.ctx.api.sweep(race, this.sweepSplit) : Promise.resolve(undefined),
      ]);
    } catch (error) {
      this.failed("sweep", error);
    }
    if (race !== this.sweepRace.value) return;  // the race changed meanwhile: its own refresh follows
    this.sweep = detail;
    this.sweepCsv.disabled = !detail || detail.runners.length === 0;
    this.sweepSplitsBody.replaceChildren(...splits.splits.map((s) => {
      const show = button(s.split === this.sweepSplit ? "Shown" : "Show", { "data-split": s.split, "aria-pressed": s.split === this.sweepSplit ? "true" : "false" });
      show.addEventListener("click", () => {
        this.sweepSplit = s.split === this.sweepSplit ? "" : s.split;
        void this.refreshSweep();
      });
      return el("tr", { "data-split": s.split, class: s.split === this.sweepSplit ? "selected" : "" },
        el("td", {}, s.split), el("td", {}, this.ctx.tpName(s.timing_point)),
        el("td", { class: "num" }, String(s.passed)), el("td", { class: "num strong" }, String(s.still_out)),
        el("td", {}, s.still_out > 0 ? show : ""));
    }));
    this.sweepRunners.replaceChildren(...(detail
      ? [
          el("h4", {}, `Still out before ${detail.split} (${this.ctx.tpName(detail.timing_point)}): ${detail.runners.length} of ${detail.expected}, the last first`),
          el("table", { class: "console-table compact" },
            el("thead", {}, el("tr", {}, ...["Bib", "Name", "Last split", "Last seen", "ETA"].map((h) => el("th", {}, h)))),
            el("tbody", {}, ...detail.runners.map((r) => el("tr", { "data-bib": r.bib },
              el("td", { class: "strong" }, r.bib), el("td", {}, r.name), el("td", {}, r.last_split ?? "–"),
              el("td", {}, this.ctx.time(r.last_seen_ms)), el("td", {}, this.ctx.time(r.eta_ms)))))),
        ]
      : []));
    this.ok("sweep");
  }

  private async refreshCutoffs(): Promise<void> {
    let body: CutoffsBody;
    try {
      body = await this.ctx.api.cutoffs();
    } catch (error) {
      this.failed("cutoffs", error);
    }
    this.cutoffsBody.replaceChildren(...(body.cutoffs.length
      ? body.cutoffs.map((c) => el("tr", { "data-race": c.race, "data-split": c.split, class: c.projected_to_miss.length ? "alert" : "" },
          el("td", {}, this.ctx.raceName(c.race)), el("td", {}, c.split), el("td", {}, c.wave ?? ""),
          el("td", {}, this.ctx.time(c.cutoff_ms)),
          el("td", { class: "num" }, String(c.passed)), el("td", { class: "num" }, String(c.passed_late)),
          el("td", { class: "wrap" }, c.projected_to_miss.length
            ? c.projected_to_miss.map((r) => `${r.bib} ${r.name}${r.eta_ms ? ` (ETA ${this.ctx.time(r.eta_ms)})` : ""}`).join(", ")
            : "none")))
      : [el("tr", {}, el("td", { colspan: 7, class: "muted" }, "No split of this event has a cut-off."))]));
    this.ok("cutoffs");
  }

  private exportOverdue(): void {
    if (!this.overdue) return;
    const rows: CsvValue[][] = this.overdue.runners.map((r) => [
      r.bib, r.name, r.race, r.last_split, this.ctx.time(r.last_seen_ms), this.ctx.tpName(r.last_timing_point), r.last_place,
      r.next_split, this.ctx.time(r.expected_ms), formatDuration(r.overdue_ms, true),
    ]);
    download(csvFileName("overdue", this.ctx.time(this.overdue.now_ms)),
      toCsv(["bib", "name", "race", "last_split", "last_seen", "last_timing_point", "last_place", "next_split", "expected", "overdue_by"], rows));
  }

  private exportSweep(): void {
    if (!this.sweep) return;
    const rows: CsvValue[][] = this.sweep.runners.map((r) => [r.bib, r.name, r.last_split, this.ctx.time(r.last_seen_ms), this.ctx.time(r.eta_ms)]);
    download(csvFileName(`sweep ${this.sweep.race} ${this.sweep.split}`, this.ctx.time(Date.now())),
      toCsv(["bib", "name", "last_split", "last_seen", "eta"], rows));
  }
}
