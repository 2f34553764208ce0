// The commentator leaderboard (/leaderboard): standings per race and category updated in place,
// the latest passings (filterable by timing point) and the leader at each timing point.
import "../styles/app.css";
import "../styles/leaderboard.css";
import { SubscriptionKind, type Passing } from "../gen/splitstream/v1/live_pb";
import { api, type EventInfo, type RaceInfo } from "../lib/api";
import { byId, el, setText } from "../lib/dom";
import { formatClock, formatDuration } from "../lib/format";
import { withParams } from "../lib/follow";
import { LiveConnection, type Subscription } from "../lib/live";
import { clockText, fatal, RaceClock, showConnection } from "../lib/page";
import { StandingsPage } from "../lib/standings";
import { StandingsTable } from "./standings_table";

const FEED_SIZE = 100;

class LeaderboardPage {
  private readonly live: LiveConnection;
  private readonly clock = new RaceClock();
  private readonly table: StandingsTable;
  private readonly page = new StandingsPage();
  private standingsSub: Subscription | undefined;
  private readonly feed: Passing[] = [];  // newest first
  private readonly leaders = new Map<string, Passing>();  // split id -> leader there
  private raceId: string;
  private category = "overall";
  private rows = 25;
  private feedFilter = "";

  constructor(private readonly event: EventInfo) {
    document.title = `${event.name} · leaderboard`;
    setText(byId("event-name"), event.name);
    this.table = new StandingsTable(byId<HTMLTableSectionElement>("standings-body"));
    this.live = new LiveConnection({
      onState: (state, detail) => showConnection(byId("connection"), state, detail),
    });
    const url = new URL(location.href);
    const raceSelect = byId<HTMLSelectElement>("race");
    for (const race of event.races) raceSelect.append(el("option", { value: race.id }, race.name));
    const wanted = url.searchParams.get("race");
    this.raceId = event.races.find((r) => r.id === wanted)?.id ?? event.races[0]?.id ?? "";
    raceSelect.value = this.raceId;
    this.category = url.searchParams.get("category") ?? "overall";
    const rows = Number(url.searchParams.get("rows"));
    if ([10, 25, 50, 100, 250].includes(rows)) this.rows = rows;
    byId<HTMLSelectElement>("rows").value = String(this.rows);
    this.feedFilter = url.searchParams.get("tp") ?? "";

    const filter = byId<HTMLSelectElement>("feed-filter");
    for (const tp of event.timing_points) filter.append(el("option", { value: tp.id }, tp.name));
    if (!event.timing_points.some((t) => t.id === this.feedFilter)) this.feedFilter = "";
    filter.value = this.feedFilter;

    raceSelect.addEventListener("change", () => {
      this.raceId = raceSelect.value;
      this.category = "overall";
      this.choose();
    });
    byId<HTMLSelectElement>("category").addEventListener("change", (e) => {
      this.category = (e.target as HTMLSelectElement).value;
      this.choose();
    });
    byId<HTMLSelectElement>("rows").addEventListener("change", (e) => {
      this.rows = Number((e.target as HTMLSelectElement).value);
      this.choose();
    });
    filter.addEventListener("change", () => {
      this.feedFilter = filter.value;
      this.updateUrl();
      void this.backfillFeed();
    });

    // Every passing, for the feed and the leaders; the feed shows those of the chosen point.
    this.live.subscribe(
      { kind: SubscriptionKind.PASSINGS, limit: FEED_SIZE },
      {
        message: (m) => {
          if (m.body.case !== "passings") return;
          const batch = m.body.value;
          if (batch.snapshot) this.feed.length = 0;
          for (const p of batch.passings) {
            this.addPassing(p);
            // The race clock follows the latest read, as on the map.
            this.clock.syncForward(Number(p.timeMs));
          }
          this.renderFeed();
          this.renderLeaders();
        },
      },
    );
    this.choose();
    setInterval(() => this.tick(), 1000);
    this.tick();
    (window as unknown as { splitstream: unknown }).splitstream = {
      standings: () => this.page.rows.map((r) => r.bib),
      version: () => String(this.page.version),
      connection: () => this.live.state,
    };
  }

  private race(): RaceInfo | undefined {
    return this.event.races.find((r) => r.id === this.raceId);
  }

  private updateUrl(): void {
    const next = withParams(new URL(location.href), {
      race: this.raceId,
      category: this.category === "overall" ? "" : this.category,
      rows: this.rows === 25 ? "" : String(this.rows),
      tp: this.feedFilter,
    });
    if (next.href !== location.href) history.replaceState(null, "", next);
  }

  private choose(): void {
    const race = this.race();
    if (!race) return;
    const categories = byId<HTMLSelectElement>("category");
    categories.replaceChildren(
      ...race.categories.map((c) => el("option", { value: c }, c === "overall" ? "Overall" : c)),
    );
    if (!race.categories.includes(this.category)) this.category = "overall";
    categories.value = this.category;
    this.updateUrl();
    setText(byId("standings-title"), `${race.name} · ${this.category === "overall" ? "overall" : this.category}`);
    setText(byId("time-header"), race.rank_by === "chip" ? "Chip time" : "Gun time");
    this.table.rankBy = race.rank_by;
    this.table.clear();
    this.page.loaded = false;
    this.standingsSub?.close();
    this.standingsSub = this.live.subscribe(
      { kind: SubscriptionKind.STANDINGS, raceId: race.id, categoryId: this.category, limit: this.rows },
      {
        message: (m) => {
          if (m.body.case === "standingsSnapshot") this.page.applySnapshot(m.body.value);
          else if (m.body.case === "standingsDelta") {
            if (!this.page.applyDelta(m.body.value)) return false;  // ask for a snapshot
          } else return true;
          this.table.render(this.page.rows);
          setText(byId("standings-total"), `${this.page.total} ranked`);
          return true;
        },
        error: (_code, text) => fatal(text),
      },
    );
    this.leaders.clear();
    void api.leaders(race.id).then((batch) => {
      for (const p of batch.passings) this.leaders.set(p.splitId, p);
      this.renderLeaders();
    });
    this.renderLeaders();
  }

  private addPassing(p: Passing): void {
    // A corrected passing (same bib and split) replaces the older one.
    const i = this.feed.findIndex((q) => q.bib === p.bib && q.splitId === p.splitId);
    if (i >= 0) this.feed.splice(i, 1);
    this.feed.unshift(p);
    if (this.feed.length > 2 * FEED_SIZE) this.feed.length = 2 * FEED_SIZE;
    if (p.raceId === this.raceId) {
      const current = this.leaders.get(p.splitId);
      if (p.rank === 1 || (current && current.bib === p.bib)) this.leaders.set(p.splitId, p);
    }
  }

  // The feed as shown: newest first, at the chosen timing point; filled from REST when the
  // filter changes (the live subscription keeps the latest 100 of every point).
  private async backfillFeed(): Promise<void> {
    if (this.feedFilter) {
      try {
        const batch = await api.passings(this.feedFilter, 50);
        // REST answers newest first; add oldest first so the newest ends on top.
        for (const p of [...batch.passings].reverse())
          if (!this.feed.some((q) => q.bib === p.bib && q.splitId === p.splitId)) this.addPassing(p);
        this.feed.sort((a, b) => (b.version > a.version ? 1 : b.version < a.version ? -1 : Number(b.timeMs - a.timeMs)));
      } catch {
        // the live feed still fills it
      }
    }
    this.renderFeed();
  }

  private renderFeed(): void {
    const list = byId("feed");
    const offset = this.event.utc_offset_minutes;
    const tpName = (id: string) => this.event.timing_points.find((t) => t.id === id)?.name ?? id;
    const shown = this.feed.filter((p) => !this.feedFilter || p.timingPointId === this.feedFilter).slice(0, 50);
    const items = shown.map((p) => {
      const key = `${p.bib}/${p.splitId}/${p.version}`;
      const existing = list.querySelector<HTMLElement>(`li[data-key="${CSS.escape(key)}"]`);
      if (existing) return existing;
      return el("li", { "data-key": key, "data-tp": p.timingPointId, class: p.rank === 1 ? "leader" : "" },
        el("time", {}, formatClock(Number(p.timeMs), offset)),
        el("span", { class: "tp" }, `${tpName(p.timingPointId)} · ${p.splitId}`),
        el("span", { class: "who" }, el("strong", {}, p.bib), ` ${p.name} `, el("span", { class: "muted" }, p.country)),
        el("span", { class: "num" }, formatDuration(Number(p.gunTimeMs))),
        el("span", { class: "num rank" }, p.rank ? `#${p.rank}` : ""));
    });
    list.replaceChildren(...items);
  }

  private renderLeaders(): void {
    const race = this.race();
    const body = byId("leaders-body");
    if (!race) return;
    const rows = race.splits.slice(1).map((split) => {
      const p = this.leaders.get(split.id);
      return el("tr", { "data-split": split.id },
        el("td", {}, split.id),
        el("td", { class: "num" }, p?.bib ?? ""),
        el("td", {}, p ? `${p.name} ${p.country}` : ""),
        el("td", { class: "num" }, p ? formatDuration(Number(p.gunTimeMs)) : ""));
    });
    body.replaceChildren(...rows);
  }

  private tick(): void {
    setText(byId("clock"), this.clock.known ? clockText(this.event, this.race(), this.clock.now()) : "--:--:--");
  }
}

async function main(): Promise<void> {
  try {
    new LeaderboardPage(await api.event());
  } catch (error) {
    fatal(`Cannot load the event: ${(error as Error).message}. Reload the page to try again.`);
  }
}

void main();
