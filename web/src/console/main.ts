// The race-day console (/console): sign-in with an official's token, then the panels of the
// timing crew and the race director, refreshed when the live connection reports a change and
// every few seconds otherwise. The token is sent once (POST /api/v1/session) and never kept:
// the server answers with an HttpOnly session cookie.
import "../styles/app.css";
import "../styles/console.css";
import { SubscriptionKind } from "../gen/splitstream/v1/live_pb";
import { api as publicApi, ApiError, type EventInfo } from "../lib/api";
import { byId, el, setText } from "../lib/dom";
import { LiveConnection } from "../lib/live";
import { fatal, showConnection } from "../lib/page";
import { AlertsPanel } from "./alerts_panel";
import { ChipsPanel } from "./chips_panel";
import { ConsoleApi } from "./console_api";
import { ConsoleContext, type Panel } from "./context";
import { CorrectionsPanel } from "./corrections_panel";
import { DevicesPanel } from "./devices_panel";
import { DirectorPanel } from "./director_panel";
import { ReviewPanel } from "./review_panel";
import { roleText, type Session } from "./roles";
import { RefreshScheduler } from "./schedule";
import { ActionMessages, button, errorText, gate } from "./ui";

const TABS = ["devices", "alerts", "chips", "review", "corrections", "director"] as const;
type Tab = (typeof TABS)[number];
// A change reported by the live connection refreshes after this long (changes meanwhile join).
const CHANGE_DELAY_MS = 1000;
// Without changes, the panels refresh this often (a device going silent is no WebSocket event).
const POLL_MS = 5000;
// Subscription kinds the server may offer to signed-in consoles (docs/websocket.md); looked up by
// name so the page works with a server (and generated code) that has not got them.
const CONSOLE_KINDS = ["DEVICES", "REVIEW"];

// One signed-in session: its panels, live connection and refresh schedule; thrown away on
// sign-out so nothing of it stays on the page.
class SignedIn {
  readonly live: LiveConnection;
  readonly scheduler: RefreshScheduler;
  readonly panels: Record<Tab, Panel>;
  private readonly devices: DevicesPanel;
  private readonly ticker: ReturnType<typeof setInterval>;
  private stopped = false;

  constructor(
    readonly session: Session,
    readonly api: ConsoleApi,
    event: EventInfo,
    readonly messages: ActionMessages,
    private readonly activeTab: () => Tab,
    showTab: (tab: string) => void,
  ) {
    const ctx = new ConsoleContext(api, event, messages, session.role, () => this.scheduler.now());
    messages.undoButton = (id, key) => {
      const b = button("Undo", { class: "link-button", "data-action": "undo" });
      b.addEventListener("click", () => void ctx.undo(key, id, `correction ${id}`));
      return gate(b, "correct", session.role);
    };
    this.devices = new DevicesPanel(ctx);
    this.panels = {
      devices: this.devices,
      alerts: new AlertsPanel(ctx, this.devices, showTab),
      chips: new ChipsPanel(ctx),
      review: new ReviewPanel(ctx),
      corrections: new CorrectionsPanel(ctx),
      director: new DirectorPanel(ctx),
    };
    for (const tab of TABS) byId(`panel-${tab}`).replaceChildren(this.panels[tab].element);

    this.scheduler = new RefreshScheduler(() => this.refresh(), CHANGE_DELAY_MS, POLL_MS);
    this.live = new LiveConnection({ onState: (state, detail) => showConnection(byId("connection"), state, detail) });
    const changed = () => this.scheduler.poke();
    this.live.subscribe({ kind: SubscriptionKind.PASSINGS, limit: 1 }, { message: changed });
    for (const race of event.races)
      this.live.subscribe({ kind: SubscriptionKind.STANDINGS, raceId: race.id, limit: 10 }, { message: changed });
    for (const name of CONSOLE_KINDS) {
      const kind = (SubscriptionKind as unknown as Record<string, number | undefined>)[name];
      if (typeof kind !== "number") continue;
      const sub = this.live.subscribe({ kind: kind as SubscriptionKind }, {
        message: changed,
        // Not offered (an older server, or no session on the socket): polling covers it.
        error: () => sub.close(),
      });
    }
    this.scheduler.start();
    this.ticker = setInterval(() => {
      const now = Date.now();
      for (const panel of Object.values(this.panels)) panel.tick?.(now);
    }, 1000);
  }

  // The panel shown, and the devices for the alert count on their tab whatever is shown.
  async refresh(): Promise<void> {
    if (this.stopped || document.hidden) return;
    const tab = this.activeTab();
    const jobs = [this.panels[tab].refresh()];
    if (tab !== "devices" && tab !== "alerts") jobs.push(this.devices.refresh());
    await Promise.allSettled(jobs);
    this.renderBadges();
  }

  renderBadges(): void {
    for (const tab of TABS) {
      const badge = this.panels[tab].badge?.() ?? { text: "", alert: false };
      const span = byId(`tab-${tab}`).querySelector<HTMLElement>(".badge");
      if (!span) continue;
      setText(span, badge.text);
      span.classList.toggle("alert", badge.alert);
    }
  }

  stop(): void {
    this.stopped = true;
    this.scheduler.stop();
    this.live.stop();
    clearInterval(this.ticker);
    this.messages.clear();
    for (const tab of TABS) {
      byId(`panel-${tab}`).replaceChildren();
      const badge = byId(`tab-${tab}`).querySelector(".badge");
      if (badge) setText(badge, "");
    }
  }
}

class ConsolePage {
  private readonly api = new ConsoleApi();
  private readonly messages = new ActionMessages();
  private signedIn: SignedIn | undefined;
  private tab: Tab = "devices";

  constructor(private readonly event: EventInfo) {
    document.title = `${event.name} · console`;
    setText(byId("event-name"), event.name);
    this.api.onUnauthorized = (error) => this.signedOut(error.code === "session_expired" ? "Your session expired: sign in again." : error.message);
    byId<HTMLFormElement>("signin-form").addEventListener("submit", (e) => {
      e.preventDefault();
      void this.signIn();
    });
    byId("sign-out").addEventListener("click", () => void this.signOut());
    for (const tab of TABS) byId(`tab-${tab}`).addEventListener("click", () => this.show(tab));
    byId("tabs").addEventListener("keydown", (e) => this.tabKeys(e));
    window.addEventListener("hashchange", () => this.show(this.tabFromHash()));
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.signedIn?.scheduler.now();
    });
    this.tab = this.tabFromHash();
    (window as unknown as { splitstream: unknown }).splitstream = {
      connection: () => this.signedIn?.live.state ?? "signed-out",
      session: () => this.signedIn?.session ?? null,
      refreshes: () => this.signedIn?.scheduler.runs ?? 0,
      tab: () => this.tab,
    };
  }

  async start(): Promise<void> {
    try {
      const session = await this.api.session();
      if (session) this.enter(session);
      else this.showSignIn("");
    } catch (error) {
      // 403 admin_disabled: this server has no officials; the form says so.
      this.showSignIn(errorText(error));
    }
  }

  private tabFromHash(): Tab {
    const wanted = location.hash.replace(/^#/, "");
    return (TABS as readonly string[]).includes(wanted) ? (wanted as Tab) : this.tab;
  }

  private show(tab: string): void {
    if (!(TABS as readonly string[]).includes(tab)) return;
    this.tab = tab as Tab;
    for (const t of TABS) {
      const selected = t === this.tab;
      const b = byId(`tab-${t}`);
      b.setAttribute("aria-selected", selected ? "true" : "false");
      b.tabIndex = selected ? 0 : -1;
      byId(`panel-${t}`).hidden = !selected;
    }
    if (location.hash !== `#${this.tab}`) history.replaceState(null, "", `#${this.tab}`);
    this.signedIn?.scheduler.now();
  }

  // Arrow keys move between tabs (the WAI-ARIA tabs pattern).
  private tabKeys(e: KeyboardEvent): void {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    const next = TABS[(TABS.indexOf(this.tab) + step + TABS.length) % TABS.length]!;
    this.show(next);
    byId(`tab-${next}`).focus();
  }

  private async signIn(): Promise<void> {
    const input = byId<HTMLInputElement>("token");
    const token = input.value;
    // The token leaves the page with this one request.
    input.value = "";
    const submit = byId<HTMLButtonElement>("signin-button");
    submit.disabled = true;
    setText(byId("signin-error"), "");
    try {
      this.enter(await this.api.signIn(token));
    } catch (error) {
      setText(byId("signin-error"), errorText(error));
      input.focus();
    } finally {
      submit.disabled = false;
    }
  }

  private async signOut(): Promise<void> {
    try {
      await this.api.signOut();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) {
        setText(byId("who"), `Sign-out failed: ${errorText(error)}`);
        return;
      }
    }
    this.signedOut("Signed out.");
  }

  private enter(session: Session): void {
    this.signedIn?.stop();
    byId("signin").hidden = true;
    byId("console").hidden = false;
    const who = byId("who");
    who.hidden = false;
    who.dataset.role = session.role;
    who.replaceChildren(el("strong", { "data-testid": "who-name" }, session.name), " · ", el("span", { "data-testid": "who-role" }, roleText(session.role)));
    who.title = session.expires_ms ? `Signed in until ${new Date(session.expires_ms).toLocaleString()}` : "";
    byId("sign-out").hidden = false;
    byId("connection").hidden = false;
    this.signedIn = new SignedIn(session, this.api, this.event, this.messages, () => this.tab, (tab) => this.show(tab));
    this.show(this.tab);
  }

  private signedOut(message: string): void {
    this.signedIn?.stop();
    this.signedIn = undefined;
    const dialog = byId<HTMLDialogElement>("confirm-dialog");
    if (dialog.open) dialog.close();
    this.showSignIn(message);
  }

  private showSignIn(message: string): void {
    byId("console").hidden = true;
    byId("signin").hidden = false;
    byId("who").hidden = true;
    byId("sign-out").hidden = true;
    byId("connection").hidden = true;
    setText(byId("signin-error"), message);
    byId("token").focus();
  }
}

async function main(): Promise<void> {
  let event: EventInfo;
  try {
    event = await publicApi.event();
  } catch (error) {
    fatal(`Cannot load the event: ${(error as Error).message}. Reload the page to try again.`);
    return;
  }
  await new ConsolePage(event).start();
}

void main();
