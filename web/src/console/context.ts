// What every panel of the console shares: the API, the event, who is signed in, the messages
// next to actions, and the way a correction is confirmed, sent and reported.
import type { EventInfo } from "../lib/api";
import { formatClock } from "../lib/format";
import type { ConsoleApi } from "./console_api";
import type { Built } from "./corrections";
import type { Role } from "./roles";
import { confirmDialog, errorText, type ActionMessages, type ConfirmSpec } from "./ui";

export interface Panel {
  readonly id: string;
  readonly element: HTMLElement;
  refresh(): Promise<void>;
  // Every second: what moves with the clock ("12 s ago").
  tick?(nowMs: number): void;
  // The count shown on the panel's tab ("" for none), and whether it is an alert.
  badge?(): { text: string; alert: boolean };
}

export interface Settings {
  // The race director's margin for overdue runners (the Alerts panel counts with it too).
  overdueMarginS: number;
}

export class ConsoleContext {
  readonly settings: Settings = { overdueMarginS: 300 };

  constructor(
    readonly api: ConsoleApi,
    readonly event: EventInfo,
    readonly messages: ActionMessages,
    readonly role: Role,
    // A correction was accepted: refresh the panels now.
    readonly changed: () => void,
  ) {}

  time(ms: number | null | undefined): string {
    return typeof ms === "number" && ms > 0 ? formatClock(ms, this.event.utc_offset_minutes) : "";
  }

  tpName(id: string | null | undefined): string {
    if (!id) return "";
    return this.event.timing_points.find((t) => t.id === id)?.name ?? id;
  }

  raceName(id: string | null | undefined): string {
    if (!id) return "";
    return this.event.races.find((r) => r.id === id)?.name ?? id;
  }

  // A correction with its confirmation: the body is checked first (a bad bib or time is shown
  // next to the control and nothing is asked or sent), then confirmed, then sent; the server's
  // answer (done, or its error message) goes next to the control. A refused correction changes
  // nothing in the page; an accepted one refreshes the panels.
  async correct(key: string, spec: ConfirmSpec, build: (reason?: string) => Built): Promise<boolean> {
    const checked = build(undefined);
    if ("error" in checked) {
      this.messages.set(key, { text: checked.error, kind: "error" });
      return false;
    }
    const choice = await confirmDialog({ ...spec, reason: spec.reason ?? "" });
    if (!choice) return false;
    const built = build(choice.reason);
    if ("error" in built) {
      this.messages.set(key, { text: built.error, kind: "error" });
      return false;
    }
    this.messages.set(key, { text: "sending…", kind: "busy" });
    try {
      const result = await this.api.correct(built.body);
      this.messages.set(key, {
        text: result.applied ? "done" : "recorded; applying",
        kind: "ok",
        ...(result.id ? { undoId: result.id } : {}),
      });
      this.changed();
      return true;
    } catch (error) {
      this.messages.set(key, { text: errorText(error), kind: "error" });
      return false;
    }
  }

  // Undo of a recorded correction (the server records the inverse one).
  async undo(key: string, id: string, what: string): Promise<boolean> {
    const choice = await confirmDialog({
      title: "Undo this correction?",
      details: [what, "The server records the opposite correction; both stay in the log."],
      confirmLabel: "Undo",
      danger: true,
    });
    if (!choice) return false;
    this.messages.set(key, { text: "sending…", kind: "busy" });
    try {
      const result = await this.api.undo(id);
      this.messages.set(key, { text: result?.id ? `undone (${result.id})` : "undone", kind: "ok" });
      this.changed();
      return true;
    } catch (error) {
      this.messages.set(key, { text: errorText(error), kind: "error" });
      return false;
    }
  }
}
