// The console's REST calls (issue 16's contract, docs/api.md): the session, devices, the race
// director's and the review endpoints under /api/v1/console/, and the corrections log. Browsers
// authenticate with the session cookie (same origin only); every unsafe request carries
// `X-Splitstream-Console: 1` (a header no cross-site form can send) and a JSON body.
import { ApiError } from "../lib/api";
import type { CorrectionBody, RunnerSnapshot } from "./corrections";
import { correctionsPath, type CorrectionFilters } from "./csv";
import { parseSession, type Session } from "./roles";

export interface Presence {
  node: string;
  state: "connected" | "dialing" | "listening" | "waiting" | "offline" | string;
  since_ms: number | null;
  last_read_ms: number | null;
  silent_ms: number | null;
  reads_total: number | null;
  reads_per_minute: number[];
  clock_offset_ms: number | null;
  clock_warning: boolean;
  gaps: number | null;
  backlog: number | null;
  rejected: number | null;
  malformed: number | null;
  remote: string | null;
}

// A device of the event (the device protocol or HTTP ingest) or a vendor decoder, with what is
// known of it; `presence` from whichever node holds it (null: none does).
export interface DeviceEntry {
  id: string;
  timing_point_id?: string;
  line?: string;
  protocol?: string;
  state?: string;
  reads?: number | null;
  rejected?: number | null;
  malformed?: number | null;
  last_read_ms?: number | null;
  clock_offset_ms?: number | null;
  presence?: Presence | null;
  silent_alert?: boolean;
}

export interface DevicesBody {
  devices: DeviceEntry[];
  decoders?: DeviceEntry[];
}

export interface Counts {
  entered: number;
  started: number;
  on_course: number;
  finished: number;
  dnf: number;
  dsq: number;
  dns: number;
  not_yet_seen: number;
}

export interface OverviewBody {
  now_ms: number;
  races: (Counts & { race: string; name: string; gun_ms: number; waves: (Counts & { wave: string; gun_ms: number })[] })[];
}

export interface OverdueRunner {
  bib: string;
  name: string;
  race: string;
  last_split: string | null;
  last_seen_ms: number | null;
  last_timing_point: string | null;
  last_place: number | null;
  next_split: string | null;
  expected_ms: number | null;
  overdue_ms: number;
}

export interface OverdueBody {
  now_ms: number;
  margin_s: number;
  runners: OverdueRunner[];
}

export interface SweepSplits {
  race: string;
  splits: { split: string; timing_point: string; passed: number; still_out: number }[];
}

export interface SweepBody {
  race: string;
  split: string;
  timing_point: string;
  passed: number;
  expected: number;
  runners: { bib: string; name: string; last_split: string | null; last_seen_ms: number | null; eta_ms: number | null }[];
}

export interface CutoffsBody {
  cutoffs: {
    race: string;
    split: string;
    wave: string | null;
    cutoff_ms: number;
    passed: number;
    passed_late: number;
    projected_to_miss: { bib: string; name: string; eta_ms: number | null; last_split: string | null }[];
  }[];
}

export interface ReviewRead {
  timing_point: string;
  time_ms: number;
  chip: string | null;
  voided: boolean;
  used_for: string | null;
}

export interface ReviewVoid {
  timing_point: string;
  from_ms: number;
  to_ms: number;
}

export interface ReviewRunner {
  bib: string;
  name: string;
  race: string;
  status: string;
  flags: { kind: string; from?: string; to?: string; text: string }[];
  splits: { split: string; timing_point: string; time_ms: number | null; gun_time_ms: number | null; rank: number | null }[];
  reads: ReviewRead[];
  voids: ReviewVoid[];
}

export interface ReviewBody {
  runners: ReviewRunner[];
}

export interface UnknownChip {
  chip: string;
  reads: { timing_point: string; time_ms: number }[];
  first_seen_ms: number;
  last_seen_ms: number;
}

export interface UnknownChipsBody {
  chips: UnknownChip[];
}

export interface CorrectionRecord {
  id: string;
  applied: boolean;
  error?: string;
  correction: Record<string, unknown>;
  by?: string;
  recorded_ms?: number;
  effect?: { runners?: { bib: string; before?: RunnerSnapshot | null; after?: RunnerSnapshot | null }[] } | null;
  undone_by?: string | null;
}

export interface CorrectionsBody {
  corrections: CorrectionRecord[];
  total?: number;
}

export interface CorrectionResult {
  id: string;
  applied: boolean;
  correction?: Record<string, unknown>;
}

export const CONSOLE_HEADER = "X-Splitstream-Console";

// The fetch options of a request: same-origin credentials (the session cookie) always; for
// anything but GET and HEAD the console header, and the body as JSON.
export function requestInit(method: string, body?: unknown): RequestInit {
  const headers: Record<string, string> = { Accept: "application/json" };
  const init: RequestInit = { method, credentials: "same-origin", cache: "no-store", headers };
  if (method !== "GET" && method !== "HEAD") {
    headers[CONSOLE_HEADER] = "1";
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
  }
  return init;
}

// The error of a refused request, from the server's {"error":{"code","message"}}.
export function apiError(status: number, body: unknown, path: string): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof error?.code === "string" ? error.code : "http_error";
  const message = typeof error?.message === "string" ? error.message : `${path}: HTTP ${status}`;
  return new ApiError(status, code, message);
}

export class ConsoleApi {
  // Called on every 401 (signed out, or the session expired): the page goes back to sign-in.
  onUnauthorized: (error: ApiError) => void = () => {};

  constructor(private readonly fetcher: typeof fetch = (input, init) => fetch(input, init)) {}

  async request<T>(method: string, path: string, body?: unknown, quiet401 = false): Promise<T> {
    let res: Response;
    try {
      res = await this.fetcher(path, requestInit(method, body));
    } catch (error) {
      throw new ApiError(0, "network", `cannot reach the server (${(error as Error).message})`);
    }
    if (res.status === 204) return undefined as T;
    const data: unknown = await res.json().catch(() => null);
    if (!res.ok) {
      const error = apiError(res.status, data, path);
      if (res.status === 401 && !quiet401) this.onUnauthorized(error);
      throw error;
    }
    return data as T;
  }

  // The session: null when not signed in (401).
  async session(): Promise<Session | null> {
    try {
      return parseSession(await this.request<unknown>("GET", "/api/v1/session", undefined, true));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  }

  async signIn(token: string): Promise<Session> {
    const session = parseSession(await this.request<unknown>("POST", "/api/v1/session", { token }, true));
    if (!session) throw new ApiError(500, "bad_response", "the server's answer to sign-in has no name and role");
    return session;
  }

  signOut(): Promise<void> {
    return this.request<void>("DELETE", "/api/v1/session", undefined, true);
  }

  devices = () => this.request<DevicesBody>("GET", "/api/v1/devices");
  overview = () => this.request<OverviewBody>("GET", "/api/v1/console/overview");
  overdue = (race: string, marginS: number) =>
    this.request<OverdueBody>("GET", `/api/v1/console/overdue?${query({ race, margin_s: String(marginS) })}`);
  sweepSplits = (race: string) => this.request<SweepSplits>("GET", `/api/v1/console/sweep?${query({ race })}`);
  sweep = (race: string, split: string) => this.request<SweepBody>("GET", `/api/v1/console/sweep?${query({ race, split })}`);
  cutoffs = () => this.request<CutoffsBody>("GET", "/api/v1/console/cutoffs");
  review = () => this.request<ReviewBody>("GET", "/api/v1/console/review");
  unknownChips = () => this.request<UnknownChipsBody>("GET", "/api/v1/console/unknown-chips");
  corrections = (filters: CorrectionFilters) => this.request<CorrectionsBody>("GET", correctionsPath(filters));
  correct = (body: CorrectionBody) => this.request<CorrectionResult>("POST", "/api/v1/admin/corrections", body);
  undo = (id: string) =>
    this.request<CorrectionResult>("POST", `/api/v1/admin/corrections/${encodeURIComponent(id)}/undo`, {});
}

function query(params: Record<string, string>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  return q.toString();
}
