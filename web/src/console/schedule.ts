// When the console refreshes its panels: every `intervalMs`, and `delayMs` after the live
// connection reports a change (passings, standings, devices, review). Changes that come while a
// refresh is waiting join it; one that comes while a refresh runs asks for one more after it, so
// a busy race (a passing every 50 ms) refreshes about once per `delayMs`, never twice at once.
export interface Timers {
  set: (fn: () => void, ms: number) => unknown;
  clear: (handle: unknown) => void;
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class RefreshScheduler {
  private timer: unknown;
  // What the armed timer waits for: a change's short delay, or the next regular refresh.
  private waitingFor: "change" | "interval" = "interval";
  private running = false;
  private again = false;
  private stopped = true;
  runs = 0;

  constructor(
    private readonly refresh: () => Promise<void>,
    private readonly delayMs: number,
    private readonly intervalMs: number,
    private readonly timers: Timers = realTimers,
  ) {}

  start(): void {
    this.stopped = false;
    this.now();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }

  // Something changed: refresh soon (after `delayMs`), unless a refresh is already waiting.
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined && this.waitingFor === "change") return;
    this.arm(this.delayMs, "change");
  }

  // Refresh at once (a tab shown, a correction made).
  now(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.arm(0, "change");
  }

  private arm(ms: number, why: "change" | "interval"): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.waitingFor = why;
    this.timer = this.timers.set(() => void this.run(), ms);
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    this.running = true;
    this.again = false;
    this.runs += 1;
    try {
      await this.refresh();
    } catch {
      // each panel shows its own error; the schedule goes on
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    if (this.again) this.arm(this.delayMs, "change");
    else this.arm(this.intervalMs, "interval");
  }
}
