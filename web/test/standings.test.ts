import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  StandingsDeltaSchema,
  StandingsRowSchema,
  StandingsSnapshotSchema,
} from "../src/gen/splitstream/v1/live_pb";
import { StandingsPage } from "../src/lib/standings";

const row = (rank: number, bib: string) => create(StandingsRowSchema, { rank, bib });

test("a delta replaces rows by bib, removes leavers and keeps rank order", () => {
  const page = new StandingsPage();
  page.applySnapshot(create(StandingsSnapshotSchema, { version: 5n, total: 3, rows: [row(1, "a"), row(2, "b"), row(3, "c")] }));
  const applied = page.applyDelta(
    create(StandingsDeltaSchema, { fromVersion: 5n, toVersion: 9n, upserted: [row(1, "c"), row(2, "a"), row(3, "d")], removedBibs: ["b"], total: 4 }),
  );
  assert.equal(applied, true);
  assert.deepEqual(page.rows.map((r) => r.bib), ["c", "a", "d"]);
  assert.equal(page.version, 9n);
  assert.equal(page.total, 4);
});

test("a delta for another version is refused and changes nothing", () => {
  const page = new StandingsPage();
  assert.equal(page.applyDelta(create(StandingsDeltaSchema, { fromVersion: 0n, toVersion: 1n })), false, "nothing loaded yet");
  page.applySnapshot(create(StandingsSnapshotSchema, { version: 5n, total: 1, rows: [row(1, "a")] }));
  assert.equal(page.applyDelta(create(StandingsDeltaSchema, { fromVersion: 4n, toVersion: 9n, removedBibs: ["a"] })), false);
  assert.deepEqual(page.rows.map((r) => r.bib), ["a"]);
  assert.equal(page.version, 5n);
});
