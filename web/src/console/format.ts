// Formatting for the race-day console: how long ago, device clock offsets, read times to the
// tenth of a second, and the reads-per-minute sparkline. Pure functions (unit-tested).
import { formatClock, formatDuration } from "../lib/format";

// "just now", "12 s ago", "4 min 05 s ago", "1 h 02 min ago", "2 d 03 h ago"; "never" for null.
export function formatAgo(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "never";
  if (ms < 1000) return "just now";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s ago`;
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)} min ${two(s % 60)} s ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${two(Math.floor((s % 3600) / 60))} min ago`;
  return `${Math.floor(s / 86_400)} d ${two(Math.floor((s % 86_400) / 3600))} h ago`;
}

// How long a device has been silent now: the server's `silent_ms` (its own clock, so the
// browser's clock being off does not matter) carried forward by the time since it was fetched.
export function silentNow(silentMs: number | null | undefined, fetchedAtMs: number, nowMs: number): number | null {
  if (silentMs === null || silentMs === undefined || !Number.isFinite(silentMs)) return null;
  return Math.max(0, silentMs) + Math.max(0, nowMs - fetchedAtMs);
}

// A device clock's offset from the server's: "+350 ms", "-2.4 s", "unknown".
export function formatOffset(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "unknown";
  const sign = ms < 0 ? "-" : "+";
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(1)} s`;
  return `${sign}${formatDuration(abs, true)}`;
}

// A read's time at the event's UTC offset with tenths: "08:42:13.4" (the void window is the
// exact millisecond; this is only how it is shown).
export function formatReadTime(epochMs: number, utcOffsetMinutes: number): string {
  const clock = formatClock(epochMs, utcOffsetMinutes);
  if (!clock) return "";
  const tenths = Math.floor((((epochMs % 1000) + 1000) % 1000) / 100);
  return `${clock}.${tenths}`;
}

// A count that may be missing: "12", "–".
export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? "–" : String(n);
}

const round2 = (n: number) => String(Math.round(n * 100) / 100);

// The reads-per-minute sparkline as SVG path data in a `width` x `height` box: `line` through
// one point per minute (oldest left, the current minute at the right edge), `area` the same line
// closed along the bottom. The highest minute touches the top (1 px inset so the stroke shows);
// all zeros lie on the bottom; one value is a flat line across. Negative values count as 0.
export function sparklinePaths(values: readonly number[], width: number, height: number): { line: string; area: string } {
  const n = values.length;
  if (n === 0 || width <= 0 || height <= 0) return { line: "", area: "" };
  const inset = 1;
  const clean = values.map((v) => (Number.isFinite(v) && v > 0 ? v : 0));
  const max = Math.max(...clean);
  const y = (v: number) => (max === 0 ? height - inset : inset + (height - 2 * inset) * (1 - v / max));
  const points: [number, number][] =
    n === 1 ? [[0, y(clean[0]!)], [width, y(clean[0]!)]] : clean.map((v, i) => [(i * width) / (n - 1), y(v)]);
  const line = points.map(([px, py], i) => `${i === 0 ? "M" : "L"}${round2(px)},${round2(py)}`).join("");
  const area = `${line}L${round2(width)},${round2(height)}L0,${round2(height)}Z`;
  return { line, area };
}
