// Devices: every timing device and decoder of the event, whichever node holds it, with its
// last read, reads per minute, clock offset and counters; a device gone silent while its mat
// still expects runners is highlighted (and counted on the tab).
import { el, setText } from "../lib/dom";
import type { DevicesBody } from "./console_api";
import type { ConsoleContext, Panel } from "./context";
import { currentRate, deviceRows, type DeviceRow } from "./device_rows";
import { formatAgo, formatCount, formatOffset, silentNow, sparklinePaths } from "./format";
import { KeyedRows, PanelState } from "./ui";

const SVG = "http://www.w3.org/2000/svg";
const SPARK_W = 90;
const SPARK_H = 22;

export function sparkline(values: number[]): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("width", String(SPARK_W));
  svg.setAttribute("height", String(SPARK_H));
  svg.setAttribute("viewBox", `0 0 ${SPARK_W} ${SPARK_H}`);
  svg.setAttribute("aria-hidden", "true");
  const { line, area } = sparklinePaths(values, SPARK_W, SPARK_H);
  if (line) {
    const fill = document.createElementNS(SVG, "path");
    fill.setAttribute("class", "spark-area");
    fill.setAttribute("d", area);
    const stroke = document.createElementNS(SVG, "path");
    stroke.setAttribute("class", "spark-line");
    stroke.setAttribute("d", line);
    svg.append(fill, stroke);
  }
  return svg;
}

export class DevicesPanel implements Panel {
  readonly id = "devices";
  readonly element: HTMLElement;
  private readonly rows: KeyedRows;
  private readonly state: PanelState;
  private data: DeviceRow[] = [];
  private fetchedAt = 0;
  loaded = false;

  constructor(private readonly ctx: ConsoleContext) {
    const body = el("tbody", { "data-testid": "devices-body" });
    const stateLine = el("span", { class: "panel-state" });
    this.element = el("div", {},
      el("div", { class: "panel-head" }, el("h2", {}, "Devices"), stateLine),
      el("p", { class: "hint" }, "A row turns red when a device is offline or silent while its mat still expects runners."),
      el("div", { class: "table-scroll" },
        el("table", { class: "console-table devices", "data-testid": "devices" },
          el("thead", {}, el("tr", {},
            ...["Device", "Mat", "Line", "Protocol", "Node", "State", "Last read", "Reads / min", "Clock offset", "Gaps", "Backlog", "Rejected", "Malformed"]
              .map((h, i) => el("th", { class: i >= 9 ? "num" : "" }, h)))),
          body)));
    this.rows = new KeyedRows(body);
    this.state = new PanelState(stateLine);
  }

  // The latest data (the Alerts panel shows the silent ones).
  devices(): { rows: DeviceRow[]; fetchedAt: number } {
    return { rows: this.data, fetchedAt: this.fetchedAt };
  }

  async refresh(): Promise<void> {
    let body: DevicesBody;
    try {
      body = await this.ctx.api.devices();
    } catch (error) {
      this.state.failed(error);
      throw error;
    }
    this.fetchedAt = Date.now();
    this.data = deviceRows(body);
    this.loaded = true;
    this.rows.update(this.data.map((d) => ({ key: `${d.kind}:${d.id}`, signature: JSON.stringify(d), build: () => this.row(d) })));
    this.state.ok(this.ctx.time(this.fetchedAt));
    this.tick(Date.now());
  }

  badge(): { text: string; alert: boolean } {
    const alerts = this.data.filter((d) => d.alert).length;
    return { text: alerts ? String(alerts) : "", alert: alerts > 0 };
  }

  tick(nowMs: number): void {
    for (const cell of this.element.querySelectorAll<HTMLElement>("[data-ago]")) {
      const silent = cell.dataset.silent ? Number(cell.dataset.silent) : null;
      const ms = silentNow(silent, this.fetchedAt, nowMs);
      setText(cell, ms === null ? "" : formatAgo(ms));
    }
  }

  private row(d: DeviceRow): HTMLTableRowElement {
    const rate = currentRate(d);
    const offset = el("td", { class: `num${d.clockWarning ? " clock-warning" : ""}`, title: d.clockWarning ? "The device's clock is off by more than the server allows (--clock-warn-ms)" : "" },
      formatOffset(d.clockOffsetMs));
    const ago = el("span", { class: "ago", "data-ago": "", "data-silent": d.silentMs === null ? "" : String(d.silentMs) });
    return el("tr", {
      "data-device": d.id,
      "data-state": d.state,
      "data-alert": d.alert ? "true" : "false",
      class: d.alert ? "alert" : "",
    },
      el("td", { class: "strong" }, d.id),
      el("td", {}, this.ctx.tpName(d.timingPoint)),
      el("td", {}, d.line),
      el("td", {}, d.protocol),
      el("td", { class: "node" }, d.node || "–"),
      el("td", {}, el("span", { class: `state state-${d.state}` }, d.state)),
      el("td", { class: "last-read" }, d.lastReadMs ? this.ctx.time(d.lastReadMs) : "none", " ", ago),
      el("td", { class: "rate", title: `reads per minute over the last ${d.readsPerMinute.length} minutes` },
        sparkline(d.readsPerMinute), el("span", { class: "num" }, formatCount(rate))),
      offset,
      el("td", { class: "num" }, formatCount(d.gaps)),
      el("td", { class: "num" }, formatCount(d.backlog)),
      el("td", { class: "num" }, formatCount(d.rejected)),
      el("td", { class: "num" }, formatCount(d.malformed)));
  }
}
