import assert from "node:assert/strict";
import { test } from "node:test";
import { formatAgo, formatOffset, formatReadTime, silentNow, sparklinePaths } from "../src/console/format";

test("sparkline: the highest minute at the top (1 px inset), zero at the bottom, oldest left", () => {
  // Box 20 x 10, inset 1: y = 1 + 8 * (1 - v / max); x every 20 / 2 = 10 px.
  assert.deepEqual(sparklinePaths([0, 5, 10], 20, 10), {
    line: "M0,9L10,5L20,1",
    area: "M0,9L10,5L20,1L20,10L0,10Z",
  });
  // Thirds round to two decimals: 1 + 5 * 2/3 = 4.33, 1 + 5 / 3 = 2.67.
  assert.equal(sparklinePaths([1, 2, 3], 10, 7).line, "M0,4.33L5,2.67L10,1");
});

test("sparkline: all zeros lie on the bottom, one value is a flat line, bad values count as 0", () => {
  assert.equal(sparklinePaths([0, 0], 20, 10).line, "M0,9L20,9");
  assert.equal(sparklinePaths([4], 20, 10).line, "M0,1L20,1");
  assert.equal(sparklinePaths([3, -2, Number.NaN], 30, 10).line, "M0,1L15,9L30,9");
  assert.deepEqual(sparklinePaths([], 20, 10), { line: "", area: "" });
});

test("how long ago, from seconds to days", () => {
  assert.equal(formatAgo(null), "never");
  assert.equal(formatAgo(999), "just now");
  assert.equal(formatAgo(12_000), "12 s ago");
  assert.equal(formatAgo(245_000), "4 min 05 s ago");
  assert.equal(formatAgo(3_720_000), "1 h 02 min ago");
  assert.equal(formatAgo(2 * 86_400_000 + 3 * 3_600_000 + 59_000), "2 d 03 h ago");
});

test("silence carried forward from the server's figure by the time since it was fetched", () => {
  assert.equal(silentNow(10_000, 1_000, 4_000), 13_000);
  assert.equal(silentNow(10_000, 5_000, 4_000), 10_000, "a browser clock stepping back adds nothing");
  assert.equal(silentNow(null, 1_000, 4_000), null);
});

test("clock offsets and read times", () => {
  assert.equal(formatOffset(350), "+350 ms");
  assert.equal(formatOffset(0), "+0 ms");
  assert.equal(formatOffset(-2400), "-2.4 s");
  assert.equal(formatOffset(125_000), "+2:05");
  assert.equal(formatOffset(null), "unknown");
  // 2025-04-05T23:42:13.456Z is 08:42:13.456 in Pyongyang (UTC+9): tenths, not rounded up.
  assert.equal(formatReadTime(Date.UTC(2025, 3, 5, 23, 42, 13, 456), 540), "08:42:13.4");
  assert.equal(formatReadTime(Date.UTC(2025, 3, 5, 23, 42, 13, 999), 540), "08:42:13.9");
});
