// The spectator map (/): the course, timing points and landmarks, every runner moving, and
// cards for the runners a spectator follows.
import "leaflet/dist/leaflet.css";
import "../styles/app.css";
import "../styles/map.css";
import L from "leaflet";
import { create } from "@bufbuild/protobuf";
import {
  RunnerStateSchema,
  RunnerStatus,
  SubscriptionKind,
  type RunnerDetail,
  type RunnerState,
} from "../gen/splitstream/v1/live_pb";
import { api, type EventInfo, type ParticipantInfo, type RaceInfo } from "../lib/api";
import { CoursePath } from "../lib/course";
import { byId, debounce, el, setText } from "../lib/dom";
import { loadFollowed, MAX_FOLLOWED, saveFollowed, withParams } from "../lib/follow";
import {
  describeFlag,
  formatClock,
  formatDistance,
  formatDuration,
  formatGap,
  formatPace,
  formatRelative,
} from "../lib/format";
import { LiveConnection, type Subscription } from "../lib/live";
import { clockText, fatal, raceColour, RaceClock, showConnection } from "../lib/page";
import { RunnerLayer } from "./runner_layer";

const STATUS_TEXT: Record<number, string> = {
  [RunnerStatus.NOT_STARTED]: "not started",
  [RunnerStatus.RUNNING]: "running",
  [RunnerStatus.FINISHED]: "finished",
  [RunnerStatus.DNF]: "DNF",
  [RunnerStatus.DSQ]: "DSQ",
};

interface Followed {
  bib: string;
  card: HTMLElement;
  subscription: Subscription;
  detail?: RunnerDetail;
}

class MapPage {
  private readonly clock = new RaceClock();
  private readonly live: LiveConnection;
  private readonly map: L.Map;
  private readonly layer: RunnerLayer;
  private readonly followed = new Map<string, Followed>();
  private mapSubscription: Subscription | undefined;
  private raceId = "";
  private readonly courseBounds = new Map<string, L.LatLngBounds>();

  constructor(
    private readonly event: EventInfo,
    tiles: { url: string; attribution: string } | null,
  ) {
    document.title = `${event.name} · live map`;
    setText(byId("event-name"), event.name);
    this.map = L.map("map", { zoomControl: true, attributionControl: true, zoomSnap: 0.25 });
    const container = this.map.getContainer();
    if (tiles) {
      L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: 19 }).addTo(this.map);
    } else {
      container.classList.add("no-tiles");  // the course on a plain background
    }
    this.map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a> · Splitstream');
    this.drawCourse();
    this.layer = new RunnerLayer(this.map, () => this.clock.now());
    (window as unknown as { splitstream: unknown }).splitstream = this.testHooks();

    this.live = new LiveConnection({
      onState: (state, detail) => showConnection(byId("connection"), state, detail),
    });
    showConnection(byId("connection"), "connecting", "");

    const url = new URL(location.href);
    const select = byId<HTMLSelectElement>("race");
    for (const race of event.races) select.append(el("option", { value: race.id }, race.name));
    const wanted = url.searchParams.get("race") ?? "";
    this.raceId = event.races.some((r) => r.id === wanted) ? wanted : "";
    select.value = this.raceId;
    select.addEventListener("change", () => this.chooseRace(select.value));

    this.map.on("click", (e: L.LeafletMouseEvent) => {
      const bib = this.layer.hit(e.containerPoint.x, e.containerPoint.y, 12);
      if (bib) this.follow(bib);
    });
    this.setupSearch();
    for (const bib of loadFollowed(url, window.localStorage)) this.follow(bib, false);
    this.chooseRace(this.raceId, false);
    this.fit();
    setInterval(() => this.tick(), 1000);
    this.tick();
  }

  private race(id: string): RaceInfo | undefined {
    return this.event.races.find((r) => r.id === id);
  }

  private drawCourse(): void {
    // Races that share a course (marathon and half on the same loop) share one line.
    const drawn = new Set<string>();
    const legend = byId("legend");
    for (const race of this.event.races) {
      const path = CoursePath.forRace(race);
      const line = L.polyline(path.points, { color: raceColour(this.event, race.id), weight: 5, opacity: 0.55 });
      this.courseBounds.set(race.id, line.getBounds());
      const key = JSON.stringify(race.course.geometry.coordinates);
      if (!drawn.has(key)) {
        drawn.add(key);
        line.addTo(this.map).bindTooltip(`${race.name} course`, { sticky: true });
      }
      legend.append(
        el("span", { class: "legend-item" }, el("i", { style: `background:${raceColour(this.event, race.id)}` }), race.name),
      );
    }
    for (const lm of this.event.landmarks) {
      L.circleMarker([lm.lat, lm.lon], { radius: 4, color: "#555", weight: 1, fillColor: "#bbb", fillOpacity: 0.9 })
        .bindTooltip(lm.name)
        .addTo(this.map);
    }
    for (const tp of this.event.timing_points) {
      L.circleMarker([tp.lat, tp.lon], { radius: 7, color: "#111", weight: 2, fillColor: "#ffd23f", fillOpacity: 1 })
        .bindTooltip(tp.name, { permanent: true, direction: "top", offset: [0, -8], className: "tp-label" })
        .addTo(this.map);
    }
  }

  private fit(): void {
    let bounds: L.LatLngBounds | undefined;
    for (const [id, b] of this.courseBounds) {
      if (this.raceId && id !== this.raceId) continue;
      bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
    }
    if (bounds) this.map.fitBounds(bounds, { padding: [24, 24] });
    else this.map.setView([0, 0], 2);
  }

  private chooseRace(raceId: string, refit = true): void {
    this.raceId = raceId;
    this.updateUrl();
    this.mapSubscription?.close();
    this.layer.clear();
    for (const race of this.event.races) {
      if (!raceId || race.id === raceId)
        this.layer.addRace(race.id, CoursePath.forRace(race), raceColour(this.event, race.id));
    }
    this.mapSubscription = this.live.subscribe(
      { kind: SubscriptionKind.MAP, raceId },
      {
        message: (m) => {
          if (m.body.case !== "runnerStates") return;
          this.clock.sync(Number(m.body.value.serverTimeMs));
          // The first message after (re)subscribing is everyone: it replaces what is drawn.
          const replace = this.mapSubscription?.first ?? true;
          const states = raceId ? m.body.value.runners.filter((s) => s.raceId === raceId) : m.body.value.runners;
          this.layer.update(states, replace);
          if (replace) this.tick();
          setText(byId("version"), String(this.live.lastVersion));
        },
      },
    );
    if (refit) this.fit();
    this.tick();
  }

  private updateUrl(): void {
    const next = withParams(new URL(location.href), { race: this.raceId, follow: [...this.followed.keys()].join(",") });
    if (next.href !== location.href) history.replaceState(null, "", next);
    saveFollowed([...this.followed.keys()], window.localStorage);
  }

  follow(bib: string, announce = true): void {
    if (this.followed.has(bib)) {
      this.followed.get(bib)!.card.scrollIntoView({ block: "nearest", behavior: "smooth" });
      return;
    }
    if (this.followed.size >= MAX_FOLLOWED) {
      fatal(`You can follow at most ${MAX_FOLLOWED} runners: unfollow one first.`);
      return;
    }
    const card = el("article", { class: "card", "data-testid": "runner-card", "data-bib": bib },
      el("header", {}, el("strong", {}, `Bib ${bib}`), el("span", { class: "muted" }, " loading…")));
    byId("cards").prepend(card);
    const entry: Followed = {
      bib,
      card,
      subscription: this.live.subscribe(
        { kind: SubscriptionKind.RUNNERS, bibs: [bib] },
        {
          message: (m) => {
            if (m.body.case !== "runner") return;
            entry.detail = m.body.value;
            this.renderCard(entry);
          },
          error: (code, text) => {
            card.replaceChildren(
              el("header", {}, el("strong", {}, `Bib ${bib}`), this.unfollowButton(bib)),
              el("p", { class: "error" }, code === "unknown_bib" ? `No runner with bib ${bib} in this event.` : text),
            );
          },
        },
      ),
    };
    this.followed.set(bib, entry);
    this.layer.highlights.set(bib, { label: bib, kind: "followed" });
    byId("cards-hint").hidden = true;
    this.updateUrl();
    if (announce) card.scrollIntoView({ block: "nearest" });
  }

  unfollow(bib: string): void {
    const entry = this.followed.get(bib);
    if (!entry) return;
    entry.subscription.close();
    entry.card.remove();
    this.followed.delete(bib);
    this.layer.highlights.delete(bib);
    byId("cards-hint").hidden = this.followed.size > 0;
    this.updateUrl();
  }

  private unfollowButton(bib: string): HTMLButtonElement {
    const button = el("button", { class: "unfollow", title: "Stop following", "aria-label": `Stop following ${bib}` }, "×");
    button.addEventListener("click", () => this.unfollow(bib));
    return button;
  }

  private renderCard(entry: Followed): void {
    const d = entry.detail;
    if (!d) return;
    const race = this.race(d.raceId);
    const offset = this.event.utc_offset_minutes;
    this.layer.highlights.set(d.bib, { label: `${d.bib} ${d.name}`, kind: "followed" });
    const last = d.splits[d.splits.length - 1];
    const splitName = (id: string) => {
      const split = race?.splits.find((s) => s.id === id);
      const tp = split ? this.event.timing_points.find((t) => t.id === split.timing_point_id) : undefined;
      return split ? `${id} (${formatDistance(split.distance_m)}${tp ? `, ${tp.name}` : ""})` : id;
    };
    const ranks = d.rank
      ? `${d.rank} overall · ${d.genderRank} ${d.gender} · ${d.categoryRank} ${d.category}`
      : "unranked";
    const locate = el("button", { class: "locate", title: "Show on the map" }, "Show on map");
    locate.addEventListener("click", () => {
      const at = this.layer.latLng(d.bib);
      if (at) this.map.setView(at, Math.max(this.map.getZoom(), 15));
    });
    const rows: (HTMLElement | string)[] = [
      el("dt", {}, "Rank"), el("dd", { "data-testid": "card-rank" }, ranks),
      el("dt", {}, "Last split"),
      el("dd", { "data-testid": "card-last-split" },
        last ? `${splitName(last.splitId)} · ${formatDuration(Number(last.gunTimeMs))} · ${formatClock(Number(last.timeMs), offset)}` : "none yet"),
      el("dt", {}, "Pace"), el("dd", {}, formatPace(d.paceSPerKm) || "–"),
      el("dt", {}, "Gap"), el("dd", {}, d.rank === 1 ? "leader" : formatGap(Number(d.gapMs)) || "–"),
    ];
    const etas = el("ul", { class: "etas", "data-testid": "card-etas" });
    const finishId = race?.splits[race.splits.length - 1]?.id;
    const shown = d.etas.filter((e, i) => i < 2 || e.splitId === finishId);
    for (const eta of shown) {
      const t = Number(eta.timeMs);
      etas.append(
        el("li", { "data-eta": String(t) },
          el("span", {}, eta.splitId === finishId ? "Finish" : splitName(eta.splitId)),
          el("span", { class: "eta-time" }, ` ~${formatClock(t, offset)} `),
          el("span", { class: "eta-rel muted" }, `(${formatRelative(t, this.clock.now())})`)),
      );
    }
    const flags = el("p", { class: "flags" });
    for (const flag of d.flags) {
      const f = describeFlag(flag);
      flags.append(el("span", { class: "flag", title: f.title }, f.label));
    }
    entry.card.replaceChildren(
      el("header", {},
        el("span", { class: "swatch", style: `background:${raceColour(this.event, d.raceId)}` }),
        el("strong", { class: "name" }, d.name), " ",
        el("span", { class: "bib" }, `#${d.bib}`), " ",
        el("span", { class: "muted" }, d.country),
        this.unfollowButton(d.bib)),
      el("p", { class: "meta" }, `${race?.name ?? d.raceId} · ${d.category} · `,
        el("span", { class: `status status-${STATUS_TEXT[d.status]?.replace(" ", "-")}`, "data-testid": "card-status" },
          STATUS_TEXT[d.status] ?? "")),
      el("dl", {}, ...rows),
      d.etas.length > 0 ? el("h4", {}, "Expected") : "",
      d.etas.length > 0 ? etas : "",
      d.flags.length > 0 ? flags : "",
      locate,
    );
  }

  private tick(): void {
    const race = this.raceId ? this.race(this.raceId) : undefined;
    setText(byId("clock"), this.clock.known ? clockText(this.event, race, this.clock.now()) : "--:--:--");
    setText(byId("runner-count"), String(this.layer.onCourse()));
    // Keep the "in 4:10" of each ETA current.
    const now = this.clock.now();
    for (const li of document.querySelectorAll<HTMLElement>("li[data-eta]")) {
      const rel = li.querySelector(".eta-rel");
      if (rel) setText(rel, `(${formatRelative(Number(li.dataset.eta), now)})`);
    }
  }

  private setupSearch(): void {
    const input = byId<HTMLInputElement>("search");
    const list = byId<HTMLUListElement>("search-results");
    let results: ParticipantInfo[] = [];
    const show = (items: ParticipantInfo[], query: string) => {
      results = items;
      list.replaceChildren();
      if (!query) {
        list.hidden = true;
        return;
      }
      if (items.length === 0) list.append(el("li", { class: "muted" }, `No runner matches “${query}”`));
      for (const p of items) {
        const li = el("li", { tabindex: 0, "data-bib": p.bib },
          el("strong", {}, p.bib), ` ${p.name} `, el("span", { class: "muted" }, `${p.country} · ${this.race(p.race_id)?.name ?? p.race_id}`));
        const pick = () => {
          this.follow(p.bib);
          input.value = "";
          show([], "");
        };
        li.addEventListener("click", pick);
        li.addEventListener("keydown", (e) => e.key === "Enter" && pick());
        list.append(li);
      }
      list.hidden = false;
    };
    const search = debounce(async (query: string) => {
      if (!query) return show([], "");
      try {
        const found = await api.participants(query, 10);
        if (input.value.trim() === query) show(found, query);
      } catch (error) {
        list.replaceChildren(el("li", { class: "error" }, String((error as Error).message)));
        list.hidden = false;
      }
    }, 200);
    input.addEventListener("input", () => search(input.value.trim()));
    input.addEventListener("keydown", (e) => {
      if (e.key === "Escape") show([], "");
    });
    byId("search-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const first = results[0];
      if (first) {
        this.follow(first.bib);
        input.value = "";
        show([], "");
      }
    });
  }

  // For the browser tests and the curious: what the page draws.
  private testHooks() {
    return {
      runnersDrawn: () => this.layer.drawn,
      runnersOnCourse: () => this.layer.onCourse(),
      position: (bib: string) => this.layer.position(bib),
      leaders: () => this.layer.leaders,
      connection: () => this.live.state,
      version: () => String(this.live.lastVersion),
      // The render benchmark: `n` made-up runners spread over the courses, and frame timings.
      addSyntheticRunners: (n: number) => this.layer.update(syntheticRunners(this.event, n, this.clock.now()), false),
      // Frame timings since the last call.
      frameTimes: () => ({
        cost: this.layer.frameCost.splice(0),
        interval: this.layer.frameInterval.splice(0),
      }),
    };
  }
}

function syntheticRunners(event: EventInfo, n: number, nowMs: number): RunnerState[] {
  const states: RunnerState[] = [];
  for (let i = 0; i < n; i++) {
    const race = event.races[i % event.races.length]!;
    const distance = ((i * 7919) % 1000) / 1000 * race.distance_m * 0.95;
    states.push(create(RunnerStateSchema, {
      bib: `synthetic-${i}`,
      raceId: race.id,
      status: RunnerStatus.RUNNING,
      lastSplitTimeMs: BigInt(Math.round(nowMs)),
      distanceM: distance,
      speedMps: 2.5 + (i % 25) / 10,
      nextSplitDistanceM: Math.min(race.distance_m, distance + 2000),
    }));
  }
  return states;
}

async function main(): Promise<void> {
  try {
    const [event, config] = await Promise.all([api.event(), api.config()]);
    new MapPage(event, config.map_tiles);
  } catch (error) {
    fatal(`Cannot load the event: ${(error as Error).message}. Reload the page to try again.`);
  }
}

void main();
