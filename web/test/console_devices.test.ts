import assert from "node:assert/strict";
import { test } from "node:test";
import type { Presence } from "../src/console/console_api";
import { currentRate, deviceRows } from "../src/console/device_rows";

const presence = (fields: Partial<Presence>): Presence => ({
  node: "n1:8080", state: "connected", since_ms: 1, last_read_ms: 1000, silent_ms: 4000, reads_total: 10,
  reads_per_minute: [1, 2, 3], clock_offset_ms: 2500, clock_warning: true, gaps: 0, backlog: 2, rejected: 1,
  malformed: 0, remote: "10.0.0.7:5123", ...fields,
});

test("devices: what the presence says, whichever node holds the device", () => {
  const rows = deviceRows({
    devices: [
      { id: "arch-main", timing_point_id: "arch", line: "main", presence: presence({}), silent_alert: false },
      { id: "arch-backup", timing_point_id: "arch", line: "backup", presence: null, silent_alert: true, rejected: 3, last_read_ms: 900 },
    ],
  });
  assert.deepEqual(rows[0], {
    id: "arch-main", kind: "device", timingPoint: "arch", line: "main", protocol: "native", node: "n1:8080", state: "connected",
    lastReadMs: 1000, silentMs: 4000, readsPerMinute: [1, 2, 3], clockOffsetMs: 2500, clockWarning: true, gaps: 0, backlog: 2,
    rejected: 1, malformed: 0, alert: false,
  });
  // No node holds it: offline, with what Redis still knows.
  assert.equal(rows[1]!.state, "offline");
  assert.equal(rows[1]!.node, "");
  assert.equal(rows[1]!.lastReadMs, 900);
  assert.equal(rows[1]!.rejected, 3);
  assert.equal(rows[1]!.silentMs, null);
  assert.equal(rows[1]!.alert, true);
  assert.equal(currentRate(rows[0]!), 3);
  assert.equal(currentRate(rows[1]!), null);
});

test("decoders follow the devices, each once, with their protocol", () => {
  const rows = deviceRows({
    devices: [{ id: "square-main", timing_point_id: "square", line: "main" }],
    decoders: [
      { id: "square-main", protocol: "raceresult", state: "connected" },
      { id: "rr-7", protocol: "raceresult", state: "dialing", clock_offset_ms: -120, malformed: 4 },
    ],
  });
  assert.deepEqual(rows.map((r) => [r.id, r.kind, r.protocol, r.state]), [
    ["square-main", "device", "native", "offline"],
    ["rr-7", "decoder", "raceresult", "dialing"],
  ]);
  assert.equal(rows[1]!.clockOffsetMs, -120);
  assert.equal(rows[1]!.malformed, 4);
});
