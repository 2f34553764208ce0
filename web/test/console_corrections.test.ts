import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration } from "../src/lib/format";
import {
  addReadBody,
  describeCorrection,
  describeEffect,
  moveChipBody,
  parseTimeOfDay,
  restoreBody,
  statusBody,
  voidReadBody,
} from "../src/console/corrections";

// 2025-04-06 08:30 in Pyongyang (UTC+9).
const REF = Date.UTC(2025, 3, 5, 23, 30);
const PYONGYANG = 540;

test("assigning an unknown chip: the bib trimmed, the reason left out when empty, never a `by`", () => {
  assert.deepEqual(moveChipBody("E280116060000200000010AD", " 2001 ", ""), {
    body: { kind: "move_chip", chip: "E280116060000200000010AD", bib: "2001" },
  });
  assert.deepEqual(moveChipBody("E28", "2001", " swapped at pickup "), {
    body: { kind: "move_chip", chip: "E28", bib: "2001", reason: "swapped at pickup" },
  });
  assert.deepEqual(moveChipBody("E28", "  "), { error: "enter a bib" });
  assert.ok("error" in moveChipBody("E28", "20 01"));
  assert.ok("error" in moveChipBody("E28", "1".repeat(33)));
});

test("voiding one read is the window [t, t] at its timing point; a restore takes the void's window", () => {
  const t = 1_743_896_510_123;
  assert.deepEqual(voidReadBody("3001", { timing_point: "stadium", time_ms: t }, "chip carried over the line"), {
    body: { kind: "void_reads", bib: "3001", timing_point: "stadium", from: t, to: t, reason: "chip carried over the line" },
  });
  assert.deepEqual(restoreBody("3001", { timing_point: "stadium", from_ms: t, to_ms: t + 5000 }), {
    body: { kind: "restore_reads", bib: "3001", timing_point: "stadium", from: t, to: t + 5000 },
  });
});

test("DNF, DSQ and back in the race", () => {
  assert.deepEqual(statusBody("12", "dnf"), { body: { kind: "set_status", bib: "12", status: "dnf" } });
  assert.deepEqual(statusBody("12", "none", "seen at the square"), {
    body: { kind: "set_status", bib: "12", status: "none", reason: "seen at the square" },
  });
});

test("a reason over 500 bytes is refused before anything is sent", () => {
  // "é" is two bytes in UTF-8: 251 of them are 502 bytes.
  assert.deepEqual(statusBody("12", "dsq", "é".repeat(251)), { error: "the reason is 502 bytes long; at most 500" });
  assert.ok("body" in statusBody("12", "dsq", "é".repeat(250)));
});

test("a hand-timed read: the time of day at the event's offset on the runner's day", () => {
  assert.deepEqual(addReadBody("12", "arch", "08:42:13.5", REF, PYONGYANG), {
    body: { kind: "add_read", bib: "12", timing_point: "arch", time: Date.UTC(2025, 3, 5, 23, 42, 13, 500) },
  });
  assert.deepEqual(addReadBody("12", "", "08:42", REF, PYONGYANG), { error: "choose a timing point" });
  assert.deepEqual(addReadBody("12", "arch", " 8h42 ", REF, PYONGYANG), {
    error: '"8h42" is not a time: write 08:42:13 or 08:42:13.5',
  });
});

test("times of day: the day nearest the reference, across midnight too", () => {
  assert.equal(parseTimeOfDay("8:42", REF, PYONGYANG), Date.UTC(2025, 3, 5, 23, 42));
  assert.equal(parseTimeOfDay("08:42:13,25", REF, PYONGYANG), Date.UTC(2025, 3, 5, 23, 42, 13, 250));
  // 00:20 on the 6th: 23:50 is the evening before (30 min earlier), not 23 h 30 later.
  assert.equal(parseTimeOfDay("23:50", Date.UTC(2025, 3, 5, 15, 20), PYONGYANG), Date.UTC(2025, 3, 5, 14, 50));
  // 23:55 on the 6th: 00:10 is the next morning.
  assert.equal(parseTimeOfDay("00:10", Date.UTC(2025, 3, 6, 14, 55), PYONGYANG), Date.UTC(2025, 3, 6, 15, 10));
  // At UTC-5 the local day starts at 05:00Z.
  assert.equal(parseTimeOfDay("07:00", Date.UTC(2025, 9, 12, 12, 0), -300), Date.UTC(2025, 9, 12, 12, 0));
  assert.equal(parseTimeOfDay("2025-04-06T08:42:13+09:00", 0, PYONGYANG), Date.UTC(2025, 3, 5, 23, 42, 13));
  for (const bad of ["2025-04-06T08:42:13", "25:00", "8:60", "8:42:61", "abc", ""])
    assert.equal(parseTimeOfDay(bad, REF, PYONGYANG), null, bad);
});

test("the log describes each kind of correction", () => {
  const t = Date.UTC(2025, 3, 5, 23, 42, 13, 456);
  const names = (id: string) => (id === "arch" ? "Arch of Triumph" : id);
  assert.equal(
    describeCorrection({ kind: "void_reads", bib: "3001", timing_point: "arch", from_ms: t, to_ms: t }, PYONGYANG, names),
    "void bib 3001's read at Arch of Triumph 08:42:13.4",
  );
  assert.equal(
    describeCorrection({ kind: "restore_reads", bib: "3001", timing_point: "arch", from_ms: t, to_ms: t + 60_000 }, PYONGYANG),
    "restore bib 3001's reads at arch from 08:42:13.4 to 08:43:13.4",
  );
  assert.equal(describeCorrection({ kind: "add_read", bib: "7", timing_point: "arch", time: t }, PYONGYANG), "hand-timed read for bib 7 at arch 08:42:13.4");
  assert.equal(describeCorrection({ kind: "move_chip", chip: "C1", bib: null }, PYONGYANG), "chip C1 to nobody");
  assert.equal(describeCorrection({ kind: "move_chip", chip: "C1", bib: "2001" }, PYONGYANG), "chip C1 to bib 2001");
  assert.equal(describeCorrection({ kind: "set_status", bib: "12", status: "dnf" }, PYONGYANG), "bib 12 DNF");
  assert.equal(describeCorrection({ kind: "set_status", bib: "12", status: "none" }, PYONGYANG), "bib 12 back in the race");
});

test("the effect of a correction on each runner, before and after", () => {
  const effect = {
    runners: [
      { bib: "3001", before: { status: "finished", last_split: "finish", time_ms: 1_022_000, rank: 1 }, after: { status: "running", last_split: "arch", time_ms: 190_000, rank: null } },
      { bib: "3002", before: { status: "finished", last_split: "finish", time_ms: 1_030_000, rank: 2 }, after: { status: "finished", last_split: "finish", time_ms: 1_030_000, rank: 2 } },
    ],
  };
  assert.deepEqual(describeEffect(effect, (ms) => formatDuration(ms)), [
    "3001: finished finish 0:17:02 #1 → running arch 0:03:10",
    "3002: no change (finished finish 0:17:10 #2)",
  ]);
  assert.deepEqual(describeEffect(null, String), []);
});
