// Where a distance along a race's course lies on the map, and where a runner is now.
import { RunnerStatus, type RunnerState } from "../gen/splitstream/v1/live_pb";
import type { RaceInfo } from "./api";

export type LatLon = [number, number];

const EARTH_RADIUS_M = 6_371_008.8;

export function haversineM(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b[0] - a[0]) * rad;
  const dLon = (b[1] - a[1]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[0] * rad) * Math.cos(b[0] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

// One lap of a course (a GeoJSON LineString) run `laps` times over `raceDistanceM`. The race's
// distances are scaled onto the drawn line, so a split at 5,000 m sits 5,000/10,000 of the way
// along a 10 km line even where the drawing is a few metres off.
export class CoursePath {
  readonly points: LatLon[];
  private readonly cumulative: number[];
  readonly lengthM: number;
  readonly lapM: number;

  constructor(
    coordinates: [number, number][],
    readonly laps: number,
    readonly raceDistanceM: number,
  ) {
    this.points = coordinates.map(([lon, lat]) => [lat, lon]);
    this.cumulative = [0];
    for (let i = 1; i < this.points.length; i++)
      this.cumulative.push(this.cumulative[i - 1]! + haversineM(this.points[i - 1]!, this.points[i]!));
    this.lengthM = this.cumulative[this.cumulative.length - 1] ?? 0;
    this.laps = Math.max(1, laps);
    this.lapM = raceDistanceM / this.laps;
  }

  static forRace(race: RaceInfo): CoursePath {
    return new CoursePath(race.course.geometry.coordinates, race.course.properties.laps, race.distance_m);
  }

  // Index of the segment and the fraction along it for race distance `d`.
  locate(d: number): { segment: number; t: number } {
    const n = this.points.length;
    if (n < 2 || this.lapM <= 0) return { segment: 0, t: 0 };
    const clamped = Math.min(Math.max(d, 0), this.raceDistanceM);
    // The end of a lap is the end of the line, not the start of the next lap.
    let inLap = clamped % this.lapM;
    if (inLap === 0 && clamped > 0) inLap = this.lapM;
    const along = (inLap / this.lapM) * this.lengthM;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! <= along) lo = mid;
      else hi = mid;
    }
    const len = this.cumulative[hi]! - this.cumulative[lo]!;
    return { segment: lo, t: len > 0 ? (along - this.cumulative[lo]!) / len : 0 };
  }

  pointAt(d: number): LatLon {
    const { segment, t } = this.locate(d);
    const a = this.points[segment]!;
    const b = this.points[Math.min(segment + 1, this.points.length - 1)]!;
    return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
  }
}

// How far short of the next mat a runner who is late waits on the map, metres.
export const HOLD_SHORT_M = 25;

// The runner's distance at `nowMs` (race clock): from the last split at the recent speed, held
// short of the next split until credited with it (docs/websocket.md).
export function projectDistance(state: RunnerState, nowMs: number): number {
  const from = state.distanceM;
  if (state.status !== RunnerStatus.RUNNING || state.speedMps <= 0) return from;
  const elapsedS = Math.max(0, (nowMs - Number(state.lastSplitTimeMs)) / 1000);
  const next = state.nextSplitDistanceM;
  const limit = next > from ? Math.max(from, next - HOLD_SHORT_M) : from;
  return Math.min(from + state.speedMps * elapsedS, limit);
}
