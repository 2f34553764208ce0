// Alerts: what needs someone now: devices gone silent while their mat expects runners, how many
// runners are overdue at their next mat, and the runners projected to miss a cut-off.
import { el, setText } from "../lib/dom";
import { formatDuration } from "../lib/format";
import type { CutoffsBody, OverdueBody } from "./console_api";
import type { ConsoleContext, Panel } from "./context";
import type { DevicesPanel } from "./devices_panel";
import { formatAgo, silentNow } from "./format";
import { errorText, PanelState } from "./ui";

export class AlertsPanel implements Panel {
  readonly id = "alerts";
  readonly element: HTMLElement;
  private readonly state: PanelState;
  private readonly silentList = el("ul", { class: "alert-list", "data-testid": "silent-devices" });
  private readonly overdueLine = el("p", { class: "big-count", "data-testid": "overdue-count" });
  private readonly cutoffList = el("ul", { class: "alert-list", "data-testid": "cutoff-misses" });
  private count = 0;
  private overdue = 0;
  private misses = 0;

  constructor(
    private readonly ctx: ConsoleContext,
    private readonly devices: DevicesPanel,
    private readonly showTab: (id: string) => void,
  ) {
    const stateLine = el("span", { class: "panel-state" });
    const toDirector = el("button", { type: "button", class: "link-button" }, "Open the overdue list");
    toDirector.addEventListener("click", () => this.showTab("director"));
    this.element = el("div", {},
      el("div", { class: "panel-head" }, el("h2", {}, "Alerts"), stateLine),
      el("section", { class: "card" }, el("h3", {}, "Silent devices"), this.silentList),
      el("section", { class: "card" }, el("h3", {}, "Overdue runners"), this.overdueLine, toDirector),
      el("section", { class: "card" }, el("h3", {}, "Projected to miss a cut-off"), this.cutoffList));
    this.state = new PanelState(stateLine);
  }

  async refresh(): Promise<void> {
    const margin = this.ctx.settings.overdueMarginS;
    const [devices, overdue, cutoffs] = await Promise.allSettled([
      this.devices.refresh(),
      this.ctx.api.overdue("", margin),
      this.ctx.api.cutoffs(),
    ]);
    this.renderSilent(devices.status === "rejected" ? devices.reason : undefined);
    this.renderOverdue(overdue.status === "fulfilled" ? overdue.value : undefined, overdue.status === "rejected" ? overdue.reason : undefined);
    this.renderCutoffs(cutoffs.status === "fulfilled" ? cutoffs.value : undefined, cutoffs.status === "rejected" ? cutoffs.reason : undefined);
    const failed = [devices, overdue, cutoffs].find((r) => r.status === "rejected");
    if (failed) this.state.failed((failed as PromiseRejectedResult).reason);
    else this.state.ok(this.ctx.time(Date.now()));
  }

  badge(): { text: string; alert: boolean } {
    return { text: this.count ? String(this.count) : "", alert: this.count > 0 };
  }

  private renderSilent(error: unknown): void {
    if (error !== undefined && !this.devices.loaded) {
      this.silentList.replaceChildren(el("li", { class: "error" }, errorText(error)));
      return;
    }
    const { rows, fetchedAt } = this.devices.devices();
    const silent = rows.filter((d) => d.alert);
    this.silentList.replaceChildren(
      ...(silent.length
        ? silent.map((d) => {
            const ms = silentNow(d.silentMs, fetchedAt, Date.now());
            return el("li", { class: "alert", "data-device": d.id },
              el("strong", {}, d.id), ` at ${this.ctx.tpName(d.timingPoint)}${d.line ? ` (${d.line})` : ""}: ${d.state}`,
              d.lastReadMs ? `, last read ${this.ctx.time(d.lastReadMs)}${ms !== null ? ` (${formatAgo(ms)})` : ""}` : ", no read yet",
              d.node ? `, node ${d.node}` : "");
          })
        : [el("li", { class: "muted" }, "none: every device with runners still to come is reading")]),
    );
    this.updateCount();
  }

  private renderOverdue(body: OverdueBody | undefined, error: unknown): void {
    if (!body) {
      setText(this.overdueLine, `not known: ${errorText(error)}`);
      this.overdueLine.classList.add("error");
      return;
    }
    this.overdueLine.classList.remove("error");
    this.overdue = body.runners.length;
    const worst = body.runners[0];
    setText(this.overdueLine, body.runners.length === 0
      ? `none more than ${Math.round(body.margin_s / 60)} min late at their next mat`
      : `${body.runners.length} more than ${Math.round(body.margin_s / 60)} min late at their next mat` +
        (worst ? `; the latest: ${worst.bib} ${worst.name}, ${formatDuration(worst.overdue_ms, true)} overdue` : ""));
    this.overdueLine.dataset.count = String(body.runners.length);
    this.updateCount();
  }

  private renderCutoffs(body: CutoffsBody | undefined, error: unknown): void {
    if (!body) {
      this.cutoffList.replaceChildren(el("li", { class: "error" }, `not known: ${errorText(error)}`));
      return;
    }
    const groups = body.cutoffs.filter((c) => c.projected_to_miss.length > 0);
    this.misses = groups.reduce((n, c) => n + c.projected_to_miss.length, 0);
    this.cutoffList.replaceChildren(
      ...(groups.length
        ? groups.map((c) =>
            el("li", { "data-race": c.race, "data-split": c.split },
              el("strong", {}, `${this.ctx.raceName(c.race)} ${c.split}${c.wave ? ` (wave ${c.wave})` : ""}`),
              ` cut-off ${this.ctx.time(c.cutoff_ms)}: `,
              c.projected_to_miss.map((r) => `${r.bib} ${r.name}${r.eta_ms ? ` (ETA ${this.ctx.time(r.eta_ms)})` : ""}`).join(", ")))
        : [el("li", { class: "muted" }, "nobody is projected to miss a cut-off")]),
    );
    this.updateCount();
  }

  private updateCount(): void {
    this.count = this.devices.devices().rows.filter((d) => d.alert).length + this.overdue + this.misses;
  }
}
