// The server's REST API (docs/api.md), typed for what the pages use.
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import {
  PassingBatchSchema,
  RunnerDetailSchema,
  StandingsSnapshotSchema,
  type PassingBatch,
  type RunnerDetail,
  type StandingsSnapshot,
} from "../gen/splitstream/v1/live_pb";

export interface TimingPointInfo {
  id: string;
  name: string;
  lat: number;
  lon: number;
}

export interface Landmark {
  name: string;
  lat: number;
  lon: number;
}

export interface SplitInfo {
  id: string;
  timing_point_id: string;
  distance_m: number;
}

export interface CourseFeature {
  type: "Feature";
  geometry: { type: "LineString"; coordinates: [number, number][] };
  properties: { laps: number; lap_length_m: number };
}

export interface RaceInfo {
  id: string;
  name: string;
  distance_m: number;
  gun_time_ms: number;
  rank_by: "gun" | "chip";
  splits: SplitInfo[];
  categories: string[];
  course: CourseFeature;
}

export interface EventInfo {
  id: string;
  name: string;
  utc_offset_minutes: number;
  timing_points: TimingPointInfo[];
  landmarks: Landmark[];
  races: RaceInfo[];
}

export interface AppConfig {
  map_tiles: { url: string; attribution: string } | null;
}

export interface ParticipantInfo {
  bib: string;
  name: string;
  country: string;
  gender: string;
  category: string;
  race_id: string;
  status: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function getJson(path: string): Promise<unknown> {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, error?.code ?? "http_error", error?.message ?? `${path}: HTTP ${res.status}`);
  }
  return body;
}

export const api = {
  event: async () => (await getJson("/api/v1/event")) as EventInfo,
  config: async (): Promise<AppConfig> => {
    try {
      return (await getJson("/api/v1/config")) as AppConfig;
    } catch {
      return { map_tiles: null };  // an older server: no tiles
    }
  },
  participants: async (q: string, limit = 10) =>
    ((await getJson(`/api/v1/participants?q=${encodeURIComponent(q)}&limit=${limit}`)) as {
      participants: ParticipantInfo[];
    }).participants,
  runner: async (bib: string): Promise<RunnerDetail> =>
    fromJson(RunnerDetailSchema, (await getJson(`/api/v1/runners/${encodeURIComponent(bib)}`)) as JsonValue),
  standings: async (race: string, category: string, limit: number): Promise<StandingsSnapshot> =>
    fromJson(
      StandingsSnapshotSchema,
      (await getJson(
        `/api/v1/standings/${encodeURIComponent(race)}?category=${encodeURIComponent(category)}&limit=${limit}`,
      )) as JsonValue,
    ),
  passings: async (timingPoint: string, limit: number): Promise<PassingBatch> =>
    fromJson(
      PassingBatchSchema,
      (await getJson(
        `/api/v1/passings?timing_point=${encodeURIComponent(timingPoint)}&limit=${limit}`,
      )) as JsonValue,
    ),
  leaders: async (race: string): Promise<PassingBatch> =>
    fromJson(PassingBatchSchema, (await getJson(`/api/v1/leaders/${encodeURIComponent(race)}`)) as JsonValue),
};
