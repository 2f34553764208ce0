// The correction bodies the console sends (POST /api/v1/admin/corrections, docs/api.md), built
// from what an official chose on the page, and how the log describes a correction. Pure
// functions: a bad input comes back as an error message and nothing is sent. `by` is never in a
// body: the server sets it from who is signed in (and refuses a body that carries it).
import { formatReadTime } from "./format";

export type RunnerStatusChoice = "dnf" | "dsq" | "none";

export type CorrectionBody =
  | { kind: "move_chip"; chip: string; bib: string; reason?: string }
  | { kind: "void_reads" | "restore_reads"; bib: string; timing_point: string; from: number; to: number; reason?: string }
  | { kind: "add_read"; bib: string; timing_point: string; time: number; reason?: string }
  | { kind: "set_status"; bib: string; status: RunnerStatusChoice; reason?: string };

export type Built = { body: CorrectionBody } | { error: string };

export const MAX_REASON_BYTES = 500;
const MAX_BIB = 32;

function checkReason(reason: string | undefined): { reason?: string } | { error: string } {
  const text = (reason ?? "").trim();
  if (!text) return {};
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_REASON_BYTES) return { error: `the reason is ${bytes} bytes long; at most ${MAX_REASON_BYTES}` };
  return { reason: text };
}

// A bib as typed: trimmed; not empty, no spaces, at most 32 characters.
export function checkBib(text: string): { bib: string } | { error: string } {
  const bib = text.trim();
  if (!bib) return { error: "enter a bib" };
  if (/\s/.test(bib)) return { error: `"${bib}" is not a bib: no spaces` };
  if (bib.length > MAX_BIB) return { error: `a bib has at most ${MAX_BIB} characters` };
  return { bib };
}

function finish(body: CorrectionBody, reason: string | undefined): Built {
  const r = checkReason(reason);
  if ("error" in r) return r;
  return { body: r.reason ? { ...body, reason: r.reason } : body };
}

// An unknown chip (and every read of it) given to a bib.
export function moveChipBody(chip: string, bibText: string, reason?: string): Built {
  if (!chip) return { error: "no chip" };
  const b = checkBib(bibText);
  if ("error" in b) return b;
  return finish({ kind: "move_chip", chip, bib: b.bib }, reason);
}

// One read voided: the window [t, t] at its timing point, t its exact millisecond.
export function voidReadBody(bib: string, read: { timing_point: string; time_ms: number }, reason?: string): Built {
  if (!Number.isFinite(read.time_ms)) return { error: "the read has no time" };
  return finish({ kind: "void_reads", bib, timing_point: read.timing_point, from: read.time_ms, to: read.time_ms }, reason);
}

// A void taken back: exactly its window.
export function restoreBody(bib: string, voided: { timing_point: string; from_ms: number; to_ms: number }, reason?: string): Built {
  return finish(
    { kind: "restore_reads", bib, timing_point: voided.timing_point, from: voided.from_ms, to: voided.to_ms },
    reason,
  );
}

// A hand-timed read: a timing point and a time of day (see parseTimeOfDay).
export function addReadBody(
  bib: string,
  timingPoint: string,
  timeText: string,
  referenceMs: number,
  utcOffsetMinutes: number,
  reason?: string,
): Built {
  if (!timingPoint) return { error: "choose a timing point" };
  const time = parseTimeOfDay(timeText, referenceMs, utcOffsetMinutes);
  if (time === null) return { error: `"${timeText.trim()}" is not a time: write 08:42:13 or 08:42:13.5` };
  return finish({ kind: "add_read", bib, timing_point: timingPoint, time }, reason);
}

// DNF, DSQ, or back in the race (none).
export function statusBody(bib: string, status: RunnerStatusChoice, reason?: string): Built {
  return finish({ kind: "set_status", bib, status }, reason);
}

const DAY_MS = 86_400_000;

// A time of day typed at the event's UTC offset ("8:42", "08:42:13", "08:42:13.5") as epoch ms:
// that time on the day, of the three around it, nearest to `referenceMs` (a runner's latest
// read, or the race's gun: a hand time is close to the runner's other reads, and a race may run
// past midnight). Also takes a full ISO 8601 time with its offset ("2025-04-06T08:42:13+09:00").
// Null when it is neither.
export function parseTimeOfDay(text: string, referenceMs: number, utcOffsetMinutes: number): number | null {
  const t = text.trim();
  if (/^\d{4}-\d\d-\d\dT.*(Z|[+-]\d\d:\d\d)$/.test(t)) {
    const ms = Date.parse(t);
    return Number.isFinite(ms) ? ms : null;
  }
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,3}))?)?$/.exec(t);
  if (!m || !Number.isFinite(referenceMs)) return null;
  const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (h > 23 || min > 59 || s > 59) return null;
  const frac = m[4] ? Number(m[4].padEnd(3, "0")) : 0;
  const offsetMs = utcOffsetMinutes * 60_000;
  const localDay = Math.floor((referenceMs + offsetMs) / DAY_MS) * DAY_MS;
  const inDay = ((h * 60 + min) * 60 + s) * 1000 + frac;
  let best = NaN;
  for (const day of [localDay - DAY_MS, localDay, localDay + DAY_MS]) {
    const candidate = day + inDay - offsetMs;
    if (Number.isNaN(best) || Math.abs(candidate - referenceMs) < Math.abs(best - referenceMs)) best = candidate;
  }
  return best;
}

// A correction as the log shows it, in a line: "void bib 3001's read at arch 08:42:13.4".
export function describeCorrection(c: Record<string, unknown>, utcOffsetMinutes: number, tpName: (id: string) => string = (id) => id): string {
  const when = (msKey: string, textKey: string): string => {
    const ms = c[msKey];
    if (typeof ms === "number") return formatReadTime(ms, utcOffsetMinutes);
    const text = c[textKey];
    if (typeof text === "number") return formatReadTime(text, utcOffsetMinutes);
    return typeof text === "string" ? text : "?";
  };
  const bib = typeof c.bib === "string" ? c.bib : "?";
  const tp = typeof c.timing_point === "string" ? tpName(c.timing_point) : "?";
  const window = () => {
    const from = when("from_ms", "from");
    const to = when("to_ms", "to");
    return from === to ? `read at ${tp} ${from}` : `reads at ${tp} from ${from} to ${to}`;
  };
  switch (c.kind) {
    case "move_chip":
      return `chip ${String(c.chip ?? "?")} to ${typeof c.bib === "string" && c.bib ? `bib ${c.bib}` : "nobody"}`;
    case "void_reads":
      return `void bib ${bib}'s ${window()}`;
    case "restore_reads":
      return `restore bib ${bib}'s ${window()}`;
    case "add_read":
      return `hand-timed read for bib ${bib} at ${tp} ${when("time_ms", "time")}`;
    case "set_status": {
      const status = String(c.status ?? "?");
      return status === "none" ? `bib ${bib} back in the race` : `bib ${bib} ${status.toUpperCase()}`;
    }
    default:
      return String(c.kind ?? "?");
  }
}

export interface RunnerSnapshot {
  status?: string | null;
  last_split?: string | null;
  time_ms?: number | null;
  rank?: number | null;
}

function snapshotText(s: RunnerSnapshot | null | undefined, formatTime: (ms: number) => string): string {
  if (!s) return "–";
  const parts: string[] = [];
  if (s.status) parts.push(String(s.status).toLowerCase());
  if (s.last_split) parts.push(s.last_split);
  if (typeof s.time_ms === "number") parts.push(formatTime(s.time_ms));
  if (typeof s.rank === "number" && s.rank > 0) parts.push(`#${s.rank}`);
  return parts.length ? parts.join(" ") : "–";
}

// What a correction did to each runner: "3001: finished finish 0:17:02 #1 → running arch 0:03:10".
export function describeEffect(
  effect: { runners?: { bib: string; before?: RunnerSnapshot | null; after?: RunnerSnapshot | null }[] } | null | undefined,
  formatTime: (ms: number) => string,
): string[] {
  return (effect?.runners ?? []).map((r) => {
    const before = snapshotText(r.before, formatTime);
    const after = snapshotText(r.after, formatTime);
    return before === after ? `${r.bib}: no change (${after})` : `${r.bib}: ${before} → ${after}`;
  });
}
