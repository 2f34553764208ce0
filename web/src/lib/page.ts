// What both pages share: the event header, the race clock and the connection badge.
import type { EventInfo, RaceInfo } from "./api";
import { setText } from "./dom";
import { formatClock, formatDuration } from "./format";
import type { ConnectionState } from "./live";

// The race clock: the server's latest read time (RunnerStateBatch.server_time_ms) carried
// forward by the browser's own clock, so replays and live races both look right.
export class RaceClock {
  private offsetMs = 0;
  known = false;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  sync(serverTimeMs: number): void {
    if (!Number.isFinite(serverTimeMs) || serverTimeMs <= 0) return;
    this.offsetMs = serverTimeMs - Date.now();
    this.known = true;
  }

  // Only forward: a late backlog does not turn the clock back.
  syncForward(timeMs: number): void {
    if (!this.known || timeMs > this.now()) this.sync(timeMs);
  }
}

// "Marathon 1:02:03" since the race's gun, or the event's time of day with no race chosen.
export function clockText(event: EventInfo, race: RaceInfo | undefined, nowMs: number): string {
  if (!race) return formatClock(nowMs, event.utc_offset_minutes);
  const since = nowMs - race.gun_time_ms;
  if (since < 0) return `${race.name} starts in ${formatDuration(-since, true)}`;
  return `${race.name} ${formatDuration(since)}`;
}

export function showConnection(badge: HTMLElement, state: ConnectionState, detail: string): void {
  badge.dataset.state = state;
  const text = state === "live" ? "live" : state === "connecting" ? "connecting…" : "reconnecting…";
  setText(badge, text);
  badge.title = detail ? `${text} (${detail})` : text;
}

// Distinct, colour-blind-friendly colours for the races (Okabe-Ito).
export const RACE_COLOURS = ["#d55e00", "#0072b2", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000"];

export function raceColour(event: EventInfo, raceId: string): string {
  const i = event.races.findIndex((r) => r.id === raceId);
  return RACE_COLOURS[(i < 0 ? 0 : i) % RACE_COLOURS.length]!;
}

export function fatal(message: string): void {
  const box = document.createElement("div");
  box.className = "fatal";
  box.setAttribute("role", "alert");
  box.textContent = message;
  document.body.prepend(box);
}
