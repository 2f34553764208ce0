import assert from "node:assert/strict";
import { test } from "node:test";
import { loadFollowed, parseBibs, withParams } from "../src/lib/follow";
import { describeFlag, formatClock, formatDuration, formatGap, formatPace, formatRelative } from "../src/lib/format";

test("durations, gaps and paces as timers write them", () => {
  assert.equal(formatDuration(7_931_155), "2:12:11");
  assert.equal(formatDuration(65_000, true), "1:05");
  assert.equal(formatDuration(3_600_000, true), "1:00:00");
  assert.equal(formatGap(83_000), "+1:23");
  assert.equal(formatGap(0), "");
  assert.equal(formatPace(187.9), "3:08/km");
  assert.equal(formatPace(0), "");
});

test("clock times at the event's UTC offset", () => {
  // 2025-04-05T23:00:00Z is 08:00 in Pyongyang (UTC+9).
  assert.equal(formatClock(Date.UTC(2025, 3, 5, 23, 0, 0), 540), "08:00:00");
  assert.equal(formatRelative(1_000_000 + 250_000, 1_000_000), "in 4:10");
  assert.equal(formatRelative(1_000_000 - 61_000, 1_000_000), "1:01 ago");
});

test("timing flags get readable labels", () => {
  assert.equal(describeFlag("missed_mats:l1-arch-l1-square").label, "missed mats");
  assert.equal(describeFlag("implausible_split:lap2").label, "implausible");
});

test("followed bibs: the URL wins over local storage, duplicates and blanks dropped", () => {
  assert.deepEqual(parseBibs(" 12, 7,,12 "), ["12", "7"]);
  const storage = { getItem: () => "3,4" };
  assert.deepEqual(loadFollowed(new URL("http://x/?follow=9"), storage), ["9"]);
  assert.deepEqual(loadFollowed(new URL("http://x/"), storage), ["3", "4"]);
  const url = withParams(new URL("http://x/?race=10k&follow=1"), { follow: "", race: "5k" });
  assert.equal(url.search, "?race=5k");
});
