// GET /api/v1/devices as the console's table rows: the event's devices and the vendor decoders
// in one list, each with what its presence says (whichever node holds it), else what the entry
// itself carries. Pure (unit-tested).
import type { DeviceEntry, DevicesBody } from "./console_api";

export interface DeviceRow {
  id: string;
  kind: "device" | "decoder";
  timingPoint: string;
  line: string;
  protocol: string;
  node: string;
  state: string;
  lastReadMs: number | null;
  silentMs: number | null;
  readsPerMinute: number[];
  clockOffsetMs: number | null;
  clockWarning: boolean;
  gaps: number | null;
  backlog: number | null;
  rejected: number | null;
  malformed: number | null;
  alert: boolean;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

function row(entry: DeviceEntry, kind: "device" | "decoder"): DeviceRow {
  const p = entry.presence ?? null;
  return {
    id: entry.id,
    kind,
    timingPoint: entry.timing_point_id ?? "",
    line: entry.line ?? "",
    // Devices speak Splitstream's own protocol (or post over HTTP); decoders name theirs.
    protocol: kind === "device" ? "native" : (entry.protocol ?? ""),
    node: p?.node ?? "",
    state: p?.state ?? (kind === "decoder" && entry.state ? entry.state : "offline"),
    lastReadMs: num(p?.last_read_ms) ?? num(entry.last_read_ms),
    silentMs: p ? num(p.silent_ms) : null,
    readsPerMinute: Array.isArray(p?.reads_per_minute) ? p.reads_per_minute.map((v) => num(v) ?? 0) : [],
    clockOffsetMs: num(p?.clock_offset_ms) ?? num(entry.clock_offset_ms),
    clockWarning: p?.clock_warning === true,
    gaps: num(p?.gaps),
    backlog: num(p?.backlog),
    rejected: num(p?.rejected) ?? num(entry.rejected),
    malformed: num(p?.malformed) ?? num(entry.malformed),
    alert: entry.silent_alert === true,
  };
}

// Devices first (in the event's order), then decoders; a decoder that is also listed as a
// device (same id) shows once.
export function deviceRows(body: DevicesBody): DeviceRow[] {
  const rows = (body.devices ?? []).map((d) => row(d, "device"));
  const seen = new Set(rows.map((r) => r.id));
  for (const d of body.decoders ?? []) if (!seen.has(d.id)) rows.push(row(d, "decoder"));
  return rows;
}

// The last minute's reads (the current minute is the array's last entry).
export function currentRate(row: DeviceRow): number | null {
  return row.readsPerMinute.length ? row.readsPerMinute[row.readsPerMinute.length - 1]! : null;
}
