// Times, paces and distances as race people write them.

// "2:05:07" (h:mm:ss), "5:07" under an hour when `short` is set; "" for a missing time.
export function formatDuration(ms: number, short = false): string {
  if (!Number.isFinite(ms) || ms <= 0) return ms === 0 ? (short ? "0:00" : "0:00:00") : "";
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  if (short && h === 0) return `${m}:${ss}`;
  return `${h}:${mm}:${ss}`;
}

// A gap behind the leader: "+1:23", "+1:02:03"; "" for the leader.
export function formatGap(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return "";
  return `+${formatDuration(ms, true)}`;
}

// Seconds per kilometre as "3:05/km"; "" when unknown.
export function formatPace(sPerKm: number): string {
  if (!Number.isFinite(sPerKm) || sPerKm <= 0) return "";
  const total = Math.round(sPerKm);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}/km`;
}

// The wall-clock time of an instant at the event's UTC offset: "09:42:13".
export function formatClock(epochMs: number, utcOffsetMinutes: number): string {
  if (!Number.isFinite(epochMs) || epochMs <= 0) return "";
  const d = new Date(epochMs + utcOffsetMinutes * 60_000);
  const hh = String(d.getUTCHours()).padStart(2, "0");
  const mm = String(d.getUTCMinutes()).padStart(2, "0");
  const ss = String(d.getUTCSeconds()).padStart(2, "0");
  return `${hh}:${mm}:${ss}`;
}

// "in 4:10", "now", "4:10 ago": how far an instant is from `now`.
export function formatRelative(epochMs: number, nowMs: number): string {
  const diff = epochMs - nowMs;
  if (Math.abs(diff) < 1000) return "now";
  return diff > 0 ? `in ${formatDuration(diff, true)}` : `${formatDuration(-diff, true)} ago`;
}

// "21.1 km", "909 m".
export function formatDistance(m: number): string {
  if (m >= 1000) return `${(m / 1000).toFixed(1)} km`;
  return `${Math.round(m)} m`;
}

// A timing flag from the server ("missed_mats:l1-arch-l1-square", "implausible_split:lap2") as a
// short label and a longer explanation.
export function describeFlag(flag: string): { label: string; title: string } {
  const [kind, detail = ""] = flag.split(":", 2) as [string, string?];
  switch (kind) {
    case "missed_mats":
      return { label: "missed mats", title: `No reads at the mats between ${detail.replace("-", " and ")}` };
    case "implausible_split":
      return { label: "implausible", title: `A read at ${detail} came too soon to be real: ignored` };
    default:
      return { label: flag.replace(/_/g, " "), title: flag };
  }
}
