import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PassingSchema, RunnerDetailSchema, RunnerStatus } from "../src/gen/splitstream/v1/live_pb";
import type { RaceInfo } from "../src/lib/api";
import { courseTimingPoints, isOut, referenceTime, runnerFromDetail, statusLabel } from "../src/console/review_model";

const race = {
  id: "10k", name: "10 km", gun_time_ms: 1_000, splits: [
    { id: "start", timing_point_id: "stadium", distance_m: 0 },
    { id: "arch", timing_point_id: "arch", distance_m: 909 },
    { id: "square", timing_point_id: "square", distance_m: 3619 },
    { id: "finish", timing_point_id: "stadium", distance_m: 10000 },
  ],
} as unknown as RaceInfo;

test("a runner opened by bib: one credited read per split, each voidable at its exact time", () => {
  const detail = create(RunnerDetailSchema, {
    bib: "2001", name: "KIM Il", raceId: "10k", status: RunnerStatus.RUNNING, flags: ["missed_mats:arch-square"],
    splits: [
      create(PassingSchema, { splitId: "start", timingPointId: "stadium", timeMs: 1_743_897_600_250n, gunTimeMs: 250n, rank: 0 }),
      create(PassingSchema, { splitId: "arch", timingPointId: "arch", timeMs: 1_743_897_800_125n, gunTimeMs: 200_125n, rank: 4 }),
    ],
  });
  const r = runnerFromDetail(detail);
  assert.equal(r.status, "running");
  assert.deepEqual(r.flags, [{ kind: "missed_mats", text: "No reads at the mats between arch and square" }]);
  assert.deepEqual(r.splits[1], { split: "arch", timing_point: "arch", time_ms: 1_743_897_800_125, gun_time_ms: 200_125, rank: 4 });
  assert.equal(r.splits[0]!.rank, null);
  assert.deepEqual(r.reads[1], { timing_point: "arch", time_ms: 1_743_897_800_125, chip: "", voided: false, used_for: "arch" });
  assert.deepEqual(r.voids, []);
  assert.equal(referenceTime(r, race), 1_743_897_800_125, "a hand time is anchored at the latest read");
  assert.equal(referenceTime({ ...r, reads: [] }, race), 1_000, "else at the gun");
});

test("the mats of a course once each, in course order; DNF and DSQ whatever the spelling", () => {
  assert.deepEqual(courseTimingPoints(race), ["stadium", "arch", "square"]);
  assert.deepEqual(courseTimingPoints(undefined), []);
  assert.equal(isOut("dnf"), "dnf");
  assert.equal(isOut("RUNNER_STATUS_DSQ"), "dsq");
  assert.equal(isOut("running"), null);
  assert.equal(statusLabel("RUNNER_STATUS_NOT_STARTED"), "not started");
  assert.equal(statusLabel("dnf"), "dnf");
});
