// Thousands of runners on a canvas over the Leaflet map, animated every frame from the
// runner-state feed: each runner is projected from its last split at its recent speed and eased
// toward that projection, so a passing corrects the dot without a jump.
import type L from "leaflet";
import { RunnerStatus, type RunnerState } from "../gen/splitstream/v1/live_pb";
import { CoursePath, projectDistance } from "../lib/course";

interface RaceTrack {
  path: CoursePath;
  colour: string;
  rgba: number;  // the colour as one little-endian RGBA word, for pixel writes
  // The course's vertices projected to pixels at `zoom` (Web Mercator is close to linear
  // between two vertices, so runners are interpolated in pixel space).
  pixels: Float64Array;
  zoom: number;
  runners: Set<Tracked>;  // so a frame walks each race's runners once
}

interface Tracked {
  state: RunnerState;
  race: RaceTrack;
  shown: number;  // distance drawn, eased toward the projection
  x: number;  // container pixels at the last frame, NaN when not drawn
  y: number;
}

export interface Highlight {
  label: string;
  kind: "followed" | "leader";
}

const EASE_MS = 400;
// Above this many runners the dots are written straight into pixels (one putImageData per
// frame) instead of one fillRect each, which costs more per call than the pixels it fills.
const PIXEL_WRITE_FROM = 4000;
const SNAP_M = 1500;  // further than this from the projection: jump (a new lap, a correction)

export class RunnerLayer {
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly races = new Map<string, RaceTrack>();
  private readonly runners = new Map<string, Tracked>();
  private lastFrame = performance.now();
  private frameRequested = false;
  private image: ImageData | undefined;
  private words: Uint32Array | undefined;
  private zooming = false;
  highlights = new Map<string, Highlight>();
  drawn = 0;
  // The leaders (furthest along) of each race, refreshed twice a second.
  leaders: string[] = [];
  private leadersAt = 0;
  // The last frames' drawing time and the interval between frames, milliseconds (for the
  // render benchmark, bench/map_render.mjs).
  readonly frameCost: number[] = [];
  readonly frameInterval: number[] = [];

  constructor(
    private readonly map: L.Map,
    private readonly now: () => number,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "runner-canvas";
    map.getContainer().appendChild(this.canvas);
    const ctx = this.canvas.getContext("2d");
    if (!ctx) throw new Error("no 2D canvas");
    this.ctx = ctx;
    map.on("zoomstart", () => (this.zooming = true));
    map.on("zoomend", () => (this.zooming = false));
    map.on("resize", () => this.resize());
    this.resize();
    this.requestFrame();
  }

  addRace(id: string, path: CoursePath, colour: string): void {
    const rgb = Number.parseInt(colour.slice(1), 16);
    const rgba = (0xff << 24) | ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff);
    this.races.set(id, { path, colour, rgba, pixels: new Float64Array(0), zoom: NaN, runners: new Set() });
  }

  // A snapshot replaces everyone; an update changes the runners it names.
  update(states: RunnerState[], replace: boolean): void {
    if (replace) this.clear();
    for (const state of states) {
      const race = this.races.get(state.raceId);
      if (!race) continue;
      const existing = this.runners.get(state.bib);
      if (existing && existing.race === race) {
        existing.state = state;
        continue;
      }
      if (existing) existing.race.runners.delete(existing);
      const tracked: Tracked = { state, race, shown: state.distanceM, x: NaN, y: NaN };
      this.runners.set(state.bib, tracked);
      race.runners.add(tracked);
    }
  }

  clear(): void {
    this.runners.clear();
    for (const race of this.races.values()) race.runners.clear();
  }

  onCourse(): number {
    let n = 0;
    for (const r of this.runners.values()) if (r.state.status === RunnerStatus.RUNNING) n++;
    return n;
  }

  state(bib: string): RunnerState | undefined {
    return this.runners.get(bib)?.state;
  }

  // Where a runner was drawn (container pixels), for tests and "show on map".
  position(bib: string): { x: number; y: number; distance: number } | null {
    const r = this.runners.get(bib);
    if (!r || Number.isNaN(r.x)) return null;
    return { x: r.x, y: r.y, distance: r.shown };
  }

  latLng(bib: string): [number, number] | null {
    const r = this.runners.get(bib);
    return r ? r.race.path.pointAt(r.shown) : null;
  }

  // The runner drawn nearest a container point, within `radius` pixels.
  hit(x: number, y: number, radius = 10): string | null {
    let best: string | null = null;
    let bestD = radius * radius;
    for (const [bib, r] of this.runners) {
      if (Number.isNaN(r.x)) continue;
      const d = (r.x - x) ** 2 + (r.y - y) ** 2;
      if (d <= bestD) {
        bestD = d;
        best = bib;
      }
    }
    return best;
  }

  private resize(): void {
    const size = this.map.getSize();
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(size.x * dpr);
    this.canvas.height = Math.round(size.y * dpr);
    this.canvas.style.width = `${size.x}px`;
    this.canvas.style.height = `${size.y}px`;
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  private requestFrame(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame((t) => {
      this.frameRequested = false;
      const interval = t - this.lastFrame;
      const start = performance.now();
      this.frame(t);
      record(this.frameCost, performance.now() - start);
      record(this.frameInterval, interval);
      this.requestFrame();
    });
  }

  private pixelsFor(race: RaceTrack, zoom: number): Float64Array {
    if (race.zoom !== zoom) {
      const pts = race.path.points;
      race.pixels = new Float64Array(pts.length * 2);
      pts.forEach((p, i) => {
        const px = this.map.project(p, zoom);
        race.pixels[2 * i] = px.x;
        race.pixels[2 * i + 1] = px.y;
      });
      race.zoom = zoom;
    }
    return race.pixels;
  }

  private frame(t: number): void {
    const dt = Math.min(1000, t - this.lastFrame);
    this.lastFrame = t;
    const size = this.map.getSize();
    const ctx = this.ctx;
    ctx.clearRect(0, 0, size.x, size.y);
    if (this.zooming) return;
    const zoom = this.map.getZoom();
    const origin = this.map.getPixelOrigin();
    const pane = this.map.containerPointToLayerPoint([0, 0]);
    const offX = -origin.x - pane.x;
    const offY = -origin.y - pane.y;
    const now = this.now();
    const alpha = 1 - Math.exp(-dt / EASE_MS);
    const dotSize = zoom >= 15 ? 5 : zoom >= 13 ? 4 : 3;
    const half = dotSize / 2;
    let drawn = 0;
    const direct = this.runners.size >= PIXEL_WRITE_FROM;
    const dpr = this.canvas.width / Math.max(1, size.x);
    const width = this.canvas.width;
    const height = this.canvas.height;
    const side = Math.max(1, Math.round(dotSize * dpr));
    let words: Uint32Array | undefined;
    if (direct) {
      if (!this.image || this.image.width !== width || this.image.height !== height) {
        this.image = ctx.createImageData(width, height);
        this.words = new Uint32Array(this.image.data.buffer);
      }
      words = this.words!;
      words.fill(0);
    }

    // Group by race so each colour is set once.
    for (const race of this.races.values()) {
      const pixels = this.pixelsFor(race, zoom);
      ctx.fillStyle = race.colour;
      for (const r of race.runners) {
        r.x = NaN;
        if (r.state.status !== RunnerStatus.RUNNING) continue;
        const target = projectDistance(r.state, now);
        r.shown = Math.abs(target - r.shown) > SNAP_M ? target : r.shown + (target - r.shown) * alpha;
        const { segment, t: along } = race.path.locate(r.shown);
        const i = 2 * segment;
        const j = Math.min(i + 2, pixels.length - 2);
        const x = pixels[i]! + (pixels[j]! - pixels[i]!) * along + offX;
        const y = pixels[i + 1]! + (pixels[j + 1]! - pixels[i + 1]!) * along + offY;
        r.x = x;
        r.y = y;
        if (x < -10 || y < -10 || x > size.x + 10 || y > size.y + 10) continue;
        drawn++;
        if (!words) {
          ctx.fillRect(x - half, y - half, dotSize, dotSize);
          continue;
        }
        const x0 = Math.max(0, Math.round((x - half) * dpr));
        const y0 = Math.max(0, Math.round((y - half) * dpr));
        const x1 = Math.min(width, x0 + side);
        const y1 = Math.min(height, y0 + side);
        for (let py = y0; py < y1; py++) words.fill(race.rgba, py * width + x0, py * width + x1);
      }
    }
    if (this.image && words) ctx.putImageData(this.image, 0, 0);
    this.drawn = drawn;

    if (t - this.leadersAt > 500) {
      this.leadersAt = t;
      this.leaders = this.findLeaders(3);
    }
    // Leaders, then followed runners, on top and labelled.
    ctx.font = "600 12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (const bib of this.leaders) if (!this.highlights.has(bib)) this.drawMarked(bib, { label: bib, kind: "leader" });
    for (const [bib, h] of this.highlights) this.drawMarked(bib, h);
  }

  private drawMarked(bib: string, h: Highlight): void {
    const r = this.runners.get(bib);
    if (!r || Number.isNaN(r.x)) return;
    const ctx = this.ctx;
    const radius = h.kind === "followed" ? 7 : 5;
    ctx.beginPath();
    ctx.arc(r.x, r.y, radius, 0, Math.PI * 2);
    ctx.fillStyle = r.race.colour;
    ctx.fill();
    ctx.lineWidth = h.kind === "followed" ? 3 : 2;
    ctx.strokeStyle = h.kind === "followed" ? "#111" : "#fff";
    ctx.stroke();
    const text = h.label;
    const w = ctx.measureText(text).width;
    const x = r.x + radius + 4;
    ctx.fillStyle = h.kind === "followed" ? "rgba(17,17,17,0.85)" : "rgba(255,255,255,0.85)";
    ctx.fillRect(x - 3, r.y - 9, w + 6, 18);
    ctx.fillStyle = h.kind === "followed" ? "#fff" : "#111";
    ctx.fillText(text, x, r.y);
  }

  // The `n` runners furthest along in each race.
  private findLeaders(n: number): string[] {
    const best = new Map<RaceTrack, [number, string][]>();
    for (const [bib, r] of this.runners) {
      if (r.state.status !== RunnerStatus.RUNNING) continue;
      let list = best.get(r.race);
      if (!list) best.set(r.race, (list = []));
      if (list.length < n || r.shown > list[list.length - 1]![0]) {
        list.push([r.shown, bib]);
        list.sort((a, b) => b[0] - a[0]);
        if (list.length > n) list.pop();
      }
    }
    return [...best.values()].flatMap((list) => list.map(([, bib]) => bib));
  }
}

const KEPT_FRAMES = 3600;  // a minute at 60 frames per second

function record(list: number[], value: number): void {
  list.push(value);
  if (list.length > KEPT_FRAMES) list.splice(0, list.length - KEPT_FRAMES);
}
