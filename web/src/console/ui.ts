// The console's DOM pieces: tables kept in place across refreshes (rows rebuilt only when their
// data changed, typed inputs kept), the confirmation dialog, and actions that show the server's
// answer next to their button.
import { ApiError } from "../lib/api";
import { byId, el, setText } from "../lib/dom";
import { roleAllows, type Need, type Role } from "./roles";

// Rows keyed by what they show: a refresh rebuilds only rows whose data changed and moves the
// others, so a table does not flicker and a bib half typed into a row survives (inputs and
// status lines marked `data-keep="name"` are carried over into the rebuilt row).
export class KeyedRows {
  private readonly rows = new Map<string, { node: HTMLElement; signature: string }>();

  constructor(readonly container: HTMLElement) {}

  update(items: { key: string; signature: string; build: () => HTMLElement }[]): void {
    const keep = new Set(items.map((i) => i.key));
    for (const [key, row] of this.rows) {
      if (!keep.has(key)) {
        row.node.remove();
        this.rows.delete(key);
      }
    }
    let previous: HTMLElement | null = null;
    for (const item of items) {
      let row = this.rows.get(item.key);
      if (!row || row.signature !== item.signature) {
        const node = item.build();
        if (row) {
          carryOver(row.node, node);
          row.node.replaceWith(node);
        }
        row = { node, signature: item.signature };
        this.rows.set(item.key, row);
      }
      const expected: ChildNode | null = previous ? previous.nextSibling : this.container.firstChild;
      if (expected !== row.node) this.container.insertBefore(row.node, expected);
      previous = row.node;
    }
  }

  clear(): void {
    this.rows.clear();
    this.container.replaceChildren();
  }
}

function carryOver(from: HTMLElement, to: HTMLElement): void {
  for (const old of from.querySelectorAll<HTMLInputElement | HTMLSelectElement>("input[data-keep], select[data-keep]")) {
    const twin = to.querySelector<HTMLInputElement | HTMLSelectElement>(`[data-keep="${CSS.escape(old.dataset.keep ?? "")}"]`);
    if (twin && twin.tagName === old.tagName && !(twin instanceof HTMLInputElement && twin.type === "hidden")) {
      twin.value = old.value;
      if (document.activeElement === old) queueMicrotask(() => twin.focus());
    }
  }
}

// What the last action of each control said ("done", or the server's error message), kept by
// the action's key so a refresh that rebuilds the row still shows it.
export interface ActionMessage {
  text: string;
  kind: "ok" | "error" | "busy";
  undoId?: string;
}

export class ActionMessages {
  private readonly messages = new Map<string, ActionMessage>();
  // Builds the undo button of a message that has one (set by the page).
  undoButton: (id: string, key: string) => HTMLElement | null = () => null;

  // The status line of an action: the current message, and kept up to date.
  view(key: string): HTMLElement {
    const span = el("span", { class: "action-status", role: "status", "aria-live": "polite", "data-status-key": key, "data-testid": "action-status" });
    this.fill(span, this.messages.get(key));
    return span;
  }

  set(key: string, message: ActionMessage | undefined): void {
    if (message) this.messages.set(key, message);
    else this.messages.delete(key);
    for (const span of document.querySelectorAll<HTMLElement>(`[data-status-key="${CSS.escape(key)}"]`)) this.fill(span, message);
  }

  get(key: string): ActionMessage | undefined {
    return this.messages.get(key);
  }

  clear(): void {
    this.messages.clear();
    for (const span of document.querySelectorAll<HTMLElement>("[data-status-key]")) this.fill(span, undefined);
  }

  private fill(span: HTMLElement, message: ActionMessage | undefined): void {
    span.dataset.kind = message?.kind ?? "";
    const children: (Node | string)[] = message ? [message.text] : [];
    if (message?.undoId) {
      const undo = this.undoButton(message.undoId, span.dataset.statusKey ?? "");
      if (undo) children.push(" ", undo);
    }
    span.replaceChildren(...children);
  }
}

export interface ConfirmSpec {
  title: string;
  details: string[];
  confirmLabel: string;
  danger?: boolean;
  // A reason field (kept with the correction), prefilled with this text; no field when absent.
  reason?: string;
}

// The confirmation dialog (one <dialog> in the page): resolves with the reason typed, or null
// when cancelled (the Cancel button, Escape, or a click outside it).
let backdropCancels = false;

export function confirmDialog(spec: ConfirmSpec): Promise<{ reason: string } | null> {
  const dialog = byId<HTMLDialogElement>("confirm-dialog");
  if (!backdropCancels) {
    backdropCancels = true;
    // The form fills the dialog: a click on the dialog itself is on the backdrop around it.
    dialog.addEventListener("click", (e) => {
      if (e.target === dialog) dialog.close("cancel");
    });
  }
  const reason = byId<HTMLTextAreaElement>("confirm-reason");
  const ok = byId<HTMLButtonElement>("confirm-ok");
  setText(byId("confirm-title"), spec.title);
  byId("confirm-details").replaceChildren(...spec.details.map((d) => el("li", {}, d)));
  byId("confirm-reason-field").hidden = spec.reason === undefined;
  reason.value = spec.reason ?? "";
  setText(ok, spec.confirmLabel);
  ok.classList.toggle("danger", spec.danger === true);
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => resolve(dialog.returnValue === "ok" ? { reason: reason.value } : null),
      { once: true },
    );
    dialog.showModal();
    (spec.reason !== undefined ? reason : ok).focus();
  });
}

// A control that needs a role: hidden and disabled for a role without it (the server refuses
// it anyway).
export function gate<T extends HTMLElement>(node: T, need: Need, role: Role | undefined): T {
  node.dataset.needs = need;
  const allowed = roleAllows(role, need);
  node.hidden = !allowed;
  if (node instanceof HTMLButtonElement || node instanceof HTMLInputElement || node instanceof HTMLSelectElement)
    node.disabled = !allowed;
  for (const control of node.querySelectorAll<HTMLButtonElement | HTMLInputElement | HTMLSelectElement>("button, input, select"))
    control.disabled = !allowed;
  return node;
}

// The message to show for a failed request: the server's own, else what went wrong.
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

export function button(label: string, attrs: Record<string, string | boolean | undefined> = {}): HTMLButtonElement {
  return el("button", { type: "button", ...attrs }, label);
}

// A panel's header line: when it was last refreshed, or why the refresh failed (the data shown
// stays: a failed refresh changes nothing).
export class PanelState {
  constructor(private readonly node: HTMLElement) {}

  ok(clock: string): void {
    this.node.dataset.state = "ok";
    setText(this.node, clock ? `updated ${clock}` : "");
  }

  failed(error: unknown): void {
    this.node.dataset.state = "error";
    setText(this.node, `not updated: ${errorText(error)}`);
  }
}
