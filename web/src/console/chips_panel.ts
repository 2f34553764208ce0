// Unknown chips: chips read at the mats that no runner holds (a misprinted chip, a swapped bib),
// each assigned to a bib in one action: its reads so far and later ones go to that runner.
import { api as publicApi } from "../lib/api";
import { el } from "../lib/dom";
import type { UnknownChip } from "./console_api";
import type { ConsoleContext, Panel } from "./context";
import { checkBib, moveChipBody } from "./corrections";
import { formatReadTime } from "./format";
import { button, gate, KeyedRows, PanelState } from "./ui";

const READS_SHOWN = 6;

export class ChipsPanel implements Panel {
  readonly id = "chips";
  readonly element: HTMLElement;
  private readonly rows: KeyedRows;
  private readonly state: PanelState;
  private readonly empty = el("p", { class: "muted", hidden: true }, "No unknown chips: every chip read belongs to a runner.");
  private count = 0;

  constructor(private readonly ctx: ConsoleContext) {
    const body = el("tbody", { "data-testid": "chips-body" });
    const stateLine = el("span", { class: "panel-state" });
    this.element = el("div", {},
      el("div", { class: "panel-head" }, el("h2", {}, "Unknown chips"), stateLine),
      el("div", { class: "table-scroll" },
        el("table", { class: "console-table chips", "data-testid": "chips" },
          el("thead", {}, el("tr", {}, ...["Chip", "Reads", "First seen", "Last seen", "Assign to bib"].map((h) => el("th", {}, h)))),
          body)),
      this.empty);
    this.rows = new KeyedRows(body);
    this.state = new PanelState(stateLine);
  }

  async refresh(): Promise<void> {
    try {
      const body = await this.ctx.api.unknownChips();
      this.count = body.chips.length;
      this.empty.hidden = body.chips.length > 0;
      this.rows.update(body.chips.map((c) => ({ key: c.chip, signature: JSON.stringify(c), build: () => this.row(c) })));
      this.state.ok(this.ctx.time(Date.now()));
    } catch (error) {
      this.state.failed(error);
      throw error;
    }
  }

  badge(): { text: string; alert: boolean } {
    return { text: this.count ? String(this.count) : "", alert: false };
  }

  private row(c: UnknownChip): HTMLTableRowElement {
    const offset = this.ctx.event.utc_offset_minutes;
    const key = `chip:${c.chip}`;
    const bib = el("input", {
      type: "text", inputmode: "numeric", autocomplete: "off", placeholder: "bib", size: 6,
      "aria-label": `Bib for chip ${c.chip}`, "data-keep": "bib", "data-testid": "chip-bib",
    });
    const assign = button("Assign", { "data-testid": "chip-assign" });
    const form = el("form", { class: "inline-form" }, bib, assign);
    assign.type = "submit";
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.assign(c, bib.value, key);
    });
    const reads = c.reads.slice(0, READS_SHOWN).map((r) => `${this.ctx.tpName(r.timing_point)} ${formatReadTime(r.time_ms, offset)}`);
    if (c.reads.length > READS_SHOWN) reads.push(`${c.reads.length - READS_SHOWN} more`);
    return el("tr", { "data-chip": c.chip },
      el("td", { class: "chip" }, c.chip),
      el("td", { class: "wrap" }, el("strong", {}, `${c.reads.length}`), el("span", { class: "muted" }, ` ${reads.join(" · ")}`)),
      el("td", {}, this.ctx.time(c.first_seen_ms)),
      el("td", {}, this.ctx.time(c.last_seen_ms)),
      el("td", { class: "actions" }, gate(form, "correct", this.ctx.role), this.ctx.messages.view(key)));
  }

  private async assign(c: UnknownChip, bibText: string, key: string): Promise<void> {
    const checked = checkBib(bibText);
    let who = "";
    if ("bib" in checked) {
      // The runner's name in the confirmation, so a mistyped bib shows.
      try {
        const found = (await publicApi.participants(checked.bib, 5)).find((p) => p.bib === checked.bib);
        who = found ? `${found.name} (${this.ctx.raceName(found.race_id)})` : "not in the participants list";
      } catch {
        who = "";
      }
    }
    const bib = "bib" in checked ? checked.bib : bibText.trim();
    await this.ctx.correct(key, {
      title: `Give chip ${c.chip} to bib ${bib}?`,
      details: [
        `Bib ${bib}${who ? `: ${who}` : ""}.`,
        `Its ${c.reads.length} read${c.reads.length === 1 ? "" : "s"} so far go to this runner, and every later read of the chip.`,
      ],
      confirmLabel: "Assign",
      reason: "unknown chip assigned at the console",
    }, (reason) => moveChipBody(c.chip, bibText, reason));
  }
}
