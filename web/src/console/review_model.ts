// The review queue's data: a runner as GET /api/v1/console/review gives it, or, for a bib opened
// by hand that is not in the queue, built from the public runner detail (the reads the engine
// credited, one per split). Pure (unit-tested).
import { RunnerStatus, type RunnerDetail } from "../gen/splitstream/v1/live_pb";
import type { RaceInfo } from "../lib/api";
import { describeFlag } from "../lib/format";
import type { ReviewRunner } from "./console_api";

export function runnerFromDetail(d: RunnerDetail): ReviewRunner {
  return {
    bib: d.bib,
    name: d.name,
    race: d.raceId,
    status: statusName(d.status),
    flags: d.flags.map((f) => {
      const [kind = f] = f.split(":", 1);
      return { kind, text: describeFlag(f).title };
    }),
    splits: d.splits.map((p) => ({
      split: p.splitId,
      timing_point: p.timingPointId,
      time_ms: Number(p.timeMs),
      gun_time_ms: Number(p.gunTimeMs),
      rank: p.rank || null,
    })),
    // Only the credited reads are known here; "" marks a chip not given (null would mean a read
    // entered by hand).
    reads: d.splits.map((p) => ({
      timing_point: p.timingPointId,
      time_ms: Number(p.timeMs),
      chip: "",
      voided: false,
      used_for: p.splitId,
    })),
    voids: [],
  };
}

export function statusName(status: RunnerStatus): string {
  switch (status) {
    case RunnerStatus.NOT_STARTED:
      return "not_started";
    case RunnerStatus.RUNNING:
      return "running";
    case RunnerStatus.FINISHED:
      return "finished";
    case RunnerStatus.DNF:
      return "dnf";
    case RunnerStatus.DSQ:
      return "dsq";
    default:
      return "unknown";
  }
}

// A status as people read it: "finished", "not started", whatever the server's spelling
// ("finished", "RUNNER_STATUS_FINISHED").
export function statusLabel(status: string): string {
  return status.replace(/^RUNNER_STATUS_/i, "").toLowerCase().replace(/_/g, " ");
}

// DNF or DSQ (the runner is out of the rankings until put back), whatever the spelling.
export function isOut(status: string): "dnf" | "dsq" | null {
  const s = status.toLowerCase();
  if (s.includes("dnf")) return "dnf";
  if (s.includes("dsq")) return "dsq";
  return null;
}

// The timing points of a race's course, in course order, each once (a hand read goes to one).
export function courseTimingPoints(race: RaceInfo | undefined): string[] {
  const out: string[] = [];
  for (const s of race?.splits ?? []) if (!out.includes(s.timing_point_id)) out.push(s.timing_point_id);
  return out;
}

// Where a hand-typed time of day is anchored: the runner's latest read, else the race's gun.
export function referenceTime(runner: ReviewRunner, race: RaceInfo | undefined): number {
  let latest = 0;
  for (const r of runner.reads) if (r.time_ms > latest) latest = r.time_ms;
  return latest || race?.gun_time_ms || Date.now();
}
