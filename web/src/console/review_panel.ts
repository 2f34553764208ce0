// The review queue: runners the engine flagged (missed mats, an implausible split) and runners
// with voided or hand-entered reads, each with their splits and every read at each mat with what
// the engine made of it; the official's corrections next to them. Any other bib can be opened by
// hand (its credited reads, from the public runner detail).
import { api as publicApi, ApiError } from "../lib/api";
import { el, setText } from "../lib/dom";
import { formatDuration } from "../lib/format";
import type { ReviewRead, ReviewRunner, ReviewVoid } from "./console_api";
import type { ConsoleContext, Panel } from "./context";
import { addReadBody, checkBib, restoreBody, statusBody, voidReadBody, type RunnerStatusChoice } from "./corrections";
import { formatReadTime } from "./format";
import { courseTimingPoints, isOut, referenceTime, runnerFromDetail, statusLabel } from "./review_model";
import { button, errorText, gate, KeyedRows, PanelState } from "./ui";

export class ReviewPanel implements Panel {
  readonly id = "review";
  readonly element: HTMLElement;
  private readonly cards: KeyedRows;
  private readonly state: PanelState;
  private readonly filter: HTMLInputElement;
  private readonly openMessage = el("span", { class: "action-status", "data-testid": "open-status" });
  private readonly empty = el("p", { class: "muted", hidden: true }, "Nothing to review: no flagged runner, no voided or hand-entered read.");
  // Bibs opened by hand, newest first; shown on top until closed.
  private opened: string[] = [];
  // The queue from the server, and the opened bibs that are not in it (from the runner detail).
  private queue: ReviewRunner[] = [];
  private readonly extra = new Map<string, ReviewRunner>();
  private flagged = 0;

  constructor(private readonly ctx: ConsoleContext) {
    const stateLine = el("span", { class: "panel-state" });
    const openBib = el("input", { type: "text", inputmode: "numeric", autocomplete: "off", placeholder: "bib", size: 6, "aria-label": "Bib to open", "data-testid": "open-bib" });
    const openForm = el("form", { class: "inline-form" }, el("label", {}, "Open a runner ", openBib), button("Open", { type: "submit", "data-testid": "open-runner" }), this.openMessage);
    openForm.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.open(openBib.value).then((ok) => {
        if (ok) openBib.value = "";
      });
    });
    this.filter = el("input", { type: "search", placeholder: "filter: bib or name", "aria-label": "Filter the queue", "data-testid": "review-filter" });
    this.filter.addEventListener("input", () => this.render());
    const list = el("div", { class: "review-list", "data-testid": "review-list" });
    this.element = el("div", {},
      el("div", { class: "panel-head" }, el("h2", {}, "Review queue"), stateLine),
      el("div", { class: "toolbar" }, openForm, this.filter),
      this.empty,
      list);
    this.cards = new KeyedRows(list);
    this.state = new PanelState(stateLine);
  }

  async refresh(): Promise<void> {
    let queue: ReviewRunner[];
    try {
      queue = (await this.ctx.api.review()).runners;
    } catch (error) {
      this.state.failed(error);
      throw error;
    }
    const missing = this.opened.filter((b) => !queue.some((r) => r.bib === b));
    const details = await Promise.all(missing.map((b) => this.detail(b)));
    this.extra.clear();
    missing.forEach((b, i) => {
      const d = details[i];
      if (d) this.extra.set(b, d);
    });
    this.queue = queue;
    this.flagged = queue.filter((r) => r.flags.length > 0).length;
    this.render();
    this.state.ok(this.ctx.time(Date.now()));
  }

  badge(): { text: string; alert: boolean } {
    return { text: this.flagged ? String(this.flagged) : "", alert: false };
  }

  private async detail(bib: string): Promise<ReviewRunner | null> {
    try {
      return runnerFromDetail(await publicApi.runner(bib));
    } catch {
      return null;
    }
  }

  // Opens a bib: its card goes on top (from the queue when it is there).
  private async open(text: string): Promise<boolean> {
    const checked = checkBib(text);
    if ("error" in checked) {
      setText(this.openMessage, checked.error);
      return false;
    }
    const bib = checked.bib;
    if (!this.queue.some((r) => r.bib === bib)) {
      try {
        await publicApi.runner(bib);
      } catch (error) {
        setText(this.openMessage, error instanceof ApiError && error.status === 404 ? `no runner has bib ${bib}` : errorText(error));
        return false;
      }
    }
    setText(this.openMessage, "");
    this.opened = [bib, ...this.opened.filter((b) => b !== bib)];
    await this.refresh().catch(() => {});
    this.element.querySelector(`[data-testid="review-card"][data-bib="${CSS.escape(bib)}"]`)?.scrollIntoView({ block: "nearest" });
    return true;
  }

  private render(): void {
    const q = this.filter.value.trim().toLowerCase();
    const byBib = new Map(this.queue.map((r) => [r.bib, r]));
    const top = this.opened.map((b) => byBib.get(b) ?? this.extra.get(b)).filter((r): r is ReviewRunner => r !== undefined);
    const rest = this.queue.filter((r) => !this.opened.includes(r.bib) && (!q || r.bib.toLowerCase() === q || r.name.toLowerCase().includes(q)));
    const shown = [...top, ...rest];
    this.empty.hidden = shown.length > 0;
    this.cards.update(shown.map((r) => {
      const fromDetail = this.extra.get(r.bib) === r;
      return { key: r.bib, signature: JSON.stringify([r, fromDetail, this.opened.includes(r.bib)]), build: () => this.card(r, fromDetail) };
    }));
  }

  private card(r: ReviewRunner, fromDetail: boolean): HTMLElement {
    const race = this.ctx.event.races.find((x) => x.id === r.race);
    const offset = this.ctx.event.utc_offset_minutes;
    const out = isOut(r.status);
    const head = el("header", {},
      el("strong", { class: "bib" }, r.bib), " ", el("span", { class: "name" }, r.name), " ",
      el("span", { class: "muted" }, this.ctx.raceName(r.race)), " ",
      el("span", { class: `status status-${statusLabel(r.status).replace(/ /g, "-")}`, "data-testid": "runner-status" }, statusLabel(r.status)));
    if (this.opened.includes(r.bib)) {
      const close = button("Close", { class: "link-button", "aria-label": `Close bib ${r.bib}` });
      close.addEventListener("click", () => {
        this.opened = this.opened.filter((b) => b !== r.bib);
        this.extra.delete(r.bib);
        this.render();
      });
      head.append(" ", close);
    }
    const flags = r.flags.length
      ? el("ul", { class: "flags" }, ...r.flags.map((f) => el("li", { class: "flag", title: f.kind }, f.text || f.kind)))
      : el("p", { class: "muted" }, fromDetail ? "Not in the review queue: the reads credited to its splits are shown." : "No flag.");

    const splits = el("table", { class: "console-table compact" },
      el("thead", {}, el("tr", {}, ...["Split", "Mat", "Time", "Gun time", "Rank"].map((h) => el("th", {}, h)))),
      el("tbody", {}, ...r.splits.map((s) => el("tr", { "data-split": s.split },
        el("td", {}, s.split), el("td", {}, this.ctx.tpName(s.timing_point)),
        el("td", {}, s.time_ms ? formatReadTime(s.time_ms, offset) : "missing"),
        el("td", { class: "num" }, s.gun_time_ms ? formatDuration(s.gun_time_ms) : ""),
        el("td", { class: "num" }, s.rank ? `#${s.rank}` : "")))));

    const reads = el("table", { class: "console-table compact reads" },
      el("thead", {}, el("tr", {}, ...["Mat", "Time", "Chip", "What the engine made of it", ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, ...[...r.reads].sort((a, b) => a.time_ms - b.time_ms).map((read) => this.readRow(r, read))));

    const voids = r.voids.length
      ? el("ul", { class: "voids", "data-testid": "voids" }, ...r.voids.map((v) => this.voidItem(r, v)))
      : null;

    return el("article", { class: `card review-card${r.flags.length ? " flagged" : ""}`, "data-testid": "review-card", "data-bib": r.bib, "data-status": r.status },
      head, flags,
      el("div", { class: "card-columns" },
        el("section", {}, el("h4", {}, "Splits"), splits),
        el("section", {}, el("h4", {}, "Reads"), reads)),
      ...(voids ? [el("h4", {}, "Voided windows"), voids] : []),
      this.handRead(r, race ? referenceTime(r, race) : referenceTime(r, undefined), courseTimingPoints(race)),
      this.statusActions(r, out));
  }

  private readRow(r: ReviewRunner, read: ReviewRead): HTMLTableRowElement {
    const offset = this.ctx.event.utc_offset_minutes;
    const key = `void:${r.bib}:${read.timing_point}:${read.time_ms}`;
    const what = read.voided ? "voided" : read.used_for ? `split ${read.used_for}` : "not used";
    const cells: HTMLElement[] = [];
    if (!read.voided) {
      const b = button("Void", { class: "danger", "data-action": "void" });
      b.addEventListener("click", () => {
        void this.ctx.correct(key, {
          title: `Void bib ${r.bib}'s read at ${this.ctx.tpName(read.timing_point)} ${formatReadTime(read.time_ms, offset)}?`,
          details: [
            read.used_for ? `It is the read of split ${read.used_for}: the next read at this mat (if any) takes its place.` : "The engine does not use it now.",
            "This read (and a copy of it arriving later) counts for nothing; Restore takes it back.",
          ],
          confirmLabel: "Void the read",
          danger: true,
        }, (reason) => voidReadBody(r.bib, read, reason));
      });
      cells.push(gate(b, "correct", this.ctx.role));
    }
    return el("tr", {
      "data-tp": read.timing_point, "data-time": String(read.time_ms),
      "data-used-for": read.used_for ?? "", "data-voided": read.voided ? "true" : "false",
      class: read.voided ? "voided" : read.used_for ? "used" : "unused",
    },
      el("td", {}, this.ctx.tpName(read.timing_point)),
      el("td", {}, formatReadTime(read.time_ms, offset)),
      el("td", { class: "chip" }, read.chip === null ? "by hand" : read.chip || "–"),
      el("td", {}, what),
      el("td", { class: "actions" }, ...cells, this.ctx.messages.view(key)));
  }

  private voidItem(r: ReviewRunner, v: ReviewVoid): HTMLLIElement {
    const offset = this.ctx.event.utc_offset_minutes;
    const key = `restore:${r.bib}:${v.timing_point}:${v.from_ms}:${v.to_ms}`;
    const window = v.from_ms === v.to_ms
      ? formatReadTime(v.from_ms, offset)
      : `${formatReadTime(v.from_ms, offset)} to ${formatReadTime(v.to_ms, offset)}`;
    const b = button("Restore", { "data-action": "restore" });
    b.addEventListener("click", () => {
      void this.ctx.correct(key, {
        title: `Restore bib ${r.bib}'s reads at ${this.ctx.tpName(v.timing_point)} ${window}?`,
        details: ["The voided reads count again, as if never voided."],
        confirmLabel: "Restore",
      }, (reason) => restoreBody(r.bib, v, reason));
    });
    return el("li", { "data-tp": v.timing_point, "data-from": String(v.from_ms), "data-to": String(v.to_ms) },
      `${this.ctx.tpName(v.timing_point)} ${window} `, gate(b, "correct", this.ctx.role), this.ctx.messages.view(key));
  }

  private handRead(r: ReviewRunner, referenceMs: number, points: string[]): HTMLElement {
    const key = `add:${r.bib}`;
    const tp = el("select", { "aria-label": "Timing point", "data-keep": "tp", "data-testid": "hand-tp" },
      ...points.map((id) => el("option", { value: id }, this.ctx.tpName(id))));
    const time = el("input", { type: "text", inputmode: "decimal", autocomplete: "off", placeholder: "08:42:13.5", size: 10, "aria-label": "Time of day", "data-keep": "time", "data-testid": "hand-time" });
    const add = button("Add read", { type: "submit", "data-action": "add-read" });
    const form = el("form", { class: "inline-form" }, el("span", { class: "label" }, "Hand-timed read"), tp, time, add);
    const offset = this.ctx.event.utc_offset_minutes;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const build = (reason?: string) => addReadBody(r.bib, tp.value, time.value, referenceMs, offset, reason);
      const preview = build();
      const at = "body" in preview && preview.body.kind === "add_read" ? formatReadTime(preview.body.time, offset) : time.value;
      void this.ctx.correct(key, {
        title: `Add a hand-timed read for bib ${r.bib} at ${this.ctx.tpName(tp.value)} ${at}?`,
        details: ["It belongs to the bib (no chip) and counts like any read."],
        confirmLabel: "Add the read",
        reason: "hand-timed",
      }, build).then((ok) => {
        if (ok) time.value = "";
      });
    });
    return el("div", { class: "card-actions" }, gate(form, "correct", this.ctx.role), this.ctx.messages.view(key));
  }

  private statusActions(r: ReviewRunner, out: "dnf" | "dsq" | null): HTMLElement {
    const key = `status:${r.bib}`;
    const action = (status: RunnerStatusChoice, label: string, details: string, danger: boolean) => {
      const b = button(label, { class: danger ? "danger" : "", "data-action": `status-${status}` });
      b.addEventListener("click", () => {
        void this.ctx.correct(key, {
          title: status === "none" ? `Put bib ${r.bib} back in the race?` : `${label}: bib ${r.bib} ${r.name}?`,
          details: [details],
          confirmLabel: label,
          danger,
        }, (reason) => statusBody(r.bib, status, reason));
      });
      return gate(b, "correct", this.ctx.role);
    };
    const buttons: HTMLElement[] = [];
    if (out !== "dnf") buttons.push(action("dnf", "DNF", "Did not finish: out of every ranking; the splits stay.", true));
    if (out !== "dsq") buttons.push(action("dsq", "DSQ", "Disqualified: out of every ranking; the splits stay.", true));
    if (out) buttons.push(action("none", "Back in race", "The runner is ranked again by the splits seen.", false));
    return el("div", { class: "card-actions" }, el("span", { class: "label" }, "Status"), ...buttons, this.ctx.messages.view(key));
  }
}
