import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { RunnerStateSchema, RunnerStatus, type RunnerState } from "../src/gen/splitstream/v1/live_pb";
import { CoursePath, HOLD_SHORT_M, haversineM, projectDistance } from "../src/lib/course";

// A 1-degree-of-latitude square is far too big for a race; a line due north is easy to check:
// 0.01 degrees of latitude is 1,111.95 m.
const north: [number, number][] = [
  [125.75, 39.0],
  [125.75, 39.005],
  [125.75, 39.01],
];

test("haversine of 0.01 degrees of latitude", () => {
  assert.ok(Math.abs(haversineM([39.0, 125.75], [39.01, 125.75]) - 1111.95) < 0.5);
});

test("distances are scaled onto the drawn line and wrap per lap", () => {
  // Two laps of 1,000 m on a line of 1,112 m: 500 m is the middle of the line.
  const path = new CoursePath(north, 2, 2000);
  const [lat, lon] = path.pointAt(500);
  assert.ok(Math.abs(lat - 39.005) < 1e-9);
  assert.equal(lon, 125.75);
  // 1,250 m: a quarter into the second lap.
  assert.ok(Math.abs(path.pointAt(1250)[0] - 39.0025) < 1e-9);
  // The end of a lap is the end of the line, and the finish too.
  assert.ok(Math.abs(path.pointAt(1000)[0] - 39.01) < 1e-9);
  assert.ok(Math.abs(path.pointAt(2000)[0] - 39.01) < 1e-9);
  // Past the finish or before the start: clamped.
  assert.ok(Math.abs(path.pointAt(5000)[0] - 39.01) < 1e-9);
  assert.ok(Math.abs(path.pointAt(-10)[0] - 39.0) < 1e-9);
});

const state = (fields: Partial<Pick<RunnerState, "status" | "speedMps" | "distanceM" | "nextSplitDistanceM">>) =>
  create(RunnerStateSchema, {
    status: RunnerStatus.RUNNING,
    lastSplitTimeMs: 1_000_000n,
    distanceM: 5000,
    speedMps: 4,
    nextSplitDistanceM: 10000,
    ...fields,
  });

test("a running runner moves on at its speed from the last split", () => {
  // 100 s after the split at 4 m/s: 400 m further.
  assert.equal(projectDistance(state({}), 1_100_000), 5400);
  // Before the split time (a clock behind): stays at the split.
  assert.equal(projectDistance(state({}), 900_000), 5000);
});

test("an overdue runner waits short of the next mat until credited with it", () => {
  assert.equal(projectDistance(state({}), 1_000_000 + 3_600_000), 10000 - HOLD_SHORT_M);
  // At the finish (next = this split) nobody moves.
  assert.equal(projectDistance(state({ distanceM: 10000, nextSplitDistanceM: 10000 }), 2_000_000), 10000);
});

test("only running runners with a known speed are projected", () => {
  assert.equal(projectDistance(state({ status: RunnerStatus.FINISHED }), 1_100_000), 5000);
  assert.equal(projectDistance(state({ speedMps: 0 }), 1_100_000), 5000);
});
