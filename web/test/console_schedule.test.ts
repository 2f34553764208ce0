import assert from "node:assert/strict";
import { test } from "node:test";
import { RefreshScheduler, type Timers } from "../src/console/schedule";

// Timers run by hand: `fire()` runs the one armed (there is at most one).
function fakeTimers() {
  const armed = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  const timers: Timers = {
    set: (fn, ms) => {
      armed.set(next, { fn, ms });
      return next++;
    },
    clear: (id) => void armed.delete(id as number),
  };
  return {
    timers,
    armed: () => [...armed.values()].map((t) => t.ms),
    fire: async () => {
      const [id, t] = [...armed][0]!;
      armed.delete(id);
      t.fn();
      await new Promise((r) => setImmediate(r));
    },
  };
}

test("a refresh at start, then every interval; a change refreshes after the short delay", async () => {
  const clock = fakeTimers();
  let runs = 0;
  const s = new RefreshScheduler(async () => void runs++, 1000, 5000, clock.timers);
  s.start();
  assert.deepEqual(clock.armed(), [0]);
  await clock.fire();
  assert.equal(runs, 1);
  assert.deepEqual(clock.armed(), [5000]);
  s.poke();
  assert.deepEqual(clock.armed(), [1000], "a change brings the next refresh forward");
  s.poke();
  s.poke();
  assert.deepEqual(clock.armed(), [1000], "changes while one waits join it (not pushed back)");
  await clock.fire();
  assert.equal(runs, 2);
  assert.deepEqual(clock.armed(), [5000]);
  s.stop();
  assert.deepEqual(clock.armed(), []);
  s.poke();
  assert.deepEqual(clock.armed(), [], "stopped: nothing more");
});

test("a change during a refresh asks for one more after it, never two at once", async () => {
  const clock = fakeTimers();
  let release: () => void = () => {};
  let running = 0;
  let most = 0;
  const s = new RefreshScheduler(
    () => {
      running++;
      most = Math.max(most, running);
      return new Promise<void>((r) => (release = () => { running--; r(); }));
    },
    1000, 5000, clock.timers,
  );
  s.start();
  await clock.fire();
  s.poke();
  s.now();
  assert.deepEqual(clock.armed(), [], "nothing armed while it runs");
  release();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(clock.armed(), [1000]);
  assert.equal(most, 1);
  assert.equal(s.runs, 1);
});
