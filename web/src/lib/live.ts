// The live WebSocket (docs/websocket.md): binary Protobuf frames, subscriptions that survive
// reconnects, and a resume from the last version each subscription applied.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ClientMessageSchema,
  LiveMessageSchema,
  SubscribeSchema,
  UnsubscribeSchema,
  type ClientMessage,
  type LiveMessage,
  type SubscriptionKind,
} from "../gen/splitstream/v1/live_pb";

export const SUBPROTOCOL = "splitstream.v1.protobuf";

export type ConnectionState = "connecting" | "live" | "reconnecting";

export interface SubscriptionSpec {
  kind: SubscriptionKind;
  raceId?: string;
  categoryId?: string;
  offset?: number;
  limit?: number;
  timingPointId?: string;
  bibs?: string[];
}

export interface SubscriptionHandlers {
  // Every message of the subscription, in order. Return false to ask for a fresh snapshot (a
  // delta that does not fit what the client holds).
  message: (message: LiveMessage) => boolean | void;
  // The server refused the subscription (unknown race, bad limit...).
  error?: (code: string, text: string) => void;
}

export class Subscription {
  // Ids the server gave (one per bib for runners); empty until `subscribed` arrives.
  ids: string[] = [];
  // Version of the last message applied: the resume point after a reconnect.
  version = 0n;
  closed = false;
  // A fresh snapshot was asked for: deltas refused meanwhile do not ask again.
  resyncing = false;
  // True for the first message after each (re)subscribe: for standings, map and runners it is a
  // snapshot that replaces what the page holds.
  first = true;

  constructor(
    readonly spec: SubscriptionSpec,
    readonly handlers: SubscriptionHandlers,
    private readonly connection: LiveConnection,
  ) {}

  // Stops it; the server is told once no other subscription holds the same id.
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection.release(this);
  }

  // Drops what was applied and asks for a fresh snapshot.
  resync(): void {
    if (this.resyncing) return;
    this.resyncing = true;
    this.version = 0n;
    this.connection.resubscribe(this);
  }
}

export interface LiveOptions {
  url?: string;
  onState?: (state: ConnectionState, detail: string) => void;
  // Backoff between reconnect attempts, milliseconds.
  minDelayMs?: number;
  maxDelayMs?: number;
}

export class LiveConnection {
  private ws: WebSocket | undefined;
  private readonly subscriptions = new Set<Subscription>();
  private readonly byId = new Map<string, Set<Subscription>>();
  // Subscribe messages sent and not yet answered, in order (the server answers in order).
  private pending: Subscription[] = [];
  private delay: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  state: ConnectionState = "connecting";
  // Highest version seen on any message: shown to people, not used to resume.
  lastVersion = 0n;
  reconnects = 0;

  constructor(private readonly options: LiveOptions = {}) {
    this.delay = options.minDelayMs ?? 500;
    this.open();
  }

  subscribe(spec: SubscriptionSpec, handlers: SubscriptionHandlers): Subscription {
    const sub = new Subscription(spec, handlers, this);
    this.subscriptions.add(sub);
    this.send(sub);
    return sub;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.ws?.close(1000, "page closed");
  }

  // Internal: called by Subscription.
  release(sub: Subscription): void {
    this.subscriptions.delete(sub);
    // A closed subscription stays in `pending`: its answer still comes, in order.
    for (const id of sub.ids) {
      const holders = this.byId.get(id);
      holders?.delete(sub);
      if (holders && holders.size === 0) {
        this.byId.delete(id);
        this.unsubscribe(id);
      }
    }
    sub.ids = [];
  }

  resubscribe(sub: Subscription): void {
    if (!sub.closed) this.send(sub);
  }

  private send(sub: Subscription): void {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;  // sent on open
    const s = sub.spec;
    const subscribe = create(SubscribeSchema, {
      kind: s.kind,
      raceId: s.raceId ?? "",
      categoryId: s.categoryId ?? "",
      offset: s.offset ?? 0,
      limit: s.limit ?? 0,
      timingPointId: s.timingPointId ?? "",
      bibs: s.bibs ?? [],
      sinceVersion: sub.version,
    });
    this.pending.push(sub);
    sub.first = true;
    this.write({ case: "subscribe", value: subscribe });
  }

  private write(body: ClientMessage["body"]): void {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(toBinary(ClientMessageSchema, create(ClientMessageSchema, { body })));
  }

  private unsubscribe(id: string): void {
    this.write({ case: "unsubscribe", value: create(UnsubscribeSchema, { subscription: id }) });
  }

  private setState(state: ConnectionState, detail: string): void {
    this.state = state;
    this.options.onState?.(state, detail);
  }

  private open(): void {
    if (this.stopped) return;
    const url = this.options.url ?? `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    const ws = new WebSocket(url, [SUBPROTOCOL]);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.delay = this.options.minDelayMs ?? 500;
      this.setState("live", "");
      this.pending = [];
      this.byId.clear();
      for (const sub of this.subscriptions) {
        sub.ids = [];
        sub.resyncing = false;
        this.send(sub);
      }
    };
    ws.onmessage = (event) => {
      if (!(event.data instanceof ArrayBuffer)) return;
      let message: LiveMessage;
      try {
        message = fromBinary(LiveMessageSchema, new Uint8Array(event.data));
      } catch {
        return;  // not ours; the server only sends LiveMessage
      }
      this.dispatch(message);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      if (this.stopped) return;
      const why = event.code === 1013 ? `server: ${event.reason || "too slow"}` : `closed (${event.code})`;
      this.reconnects += 1;
      this.setState("reconnecting", why);
      // Full jitter, so thousands of browsers do not come back in the same millisecond.
      const wait = Math.random() * this.delay;
      this.delay = Math.min(this.delay * 2, this.options.maxDelayMs ?? 10_000);
      this.timer = setTimeout(() => this.open(), wait);
    };
  }

  private dispatch(message: LiveMessage): void {
    if (message.version > this.lastVersion) this.lastVersion = message.version;
    const body = message.body;
    if (body.case === "subscribed") {
      const sub = this.pending.shift();
      if (!sub) return;
      if (sub.closed) {
        // Closed while waiting for the answer: tell the server now.
        for (const id of body.value.subscriptions)
          if (!this.byId.has(id)) this.unsubscribe(id);
        return;
      }
      for (const id of sub.ids) this.byId.get(id)?.delete(sub);
      sub.ids = body.value.subscriptions;
      for (const id of sub.ids) {
        let holders = this.byId.get(id);
        if (!holders) this.byId.set(id, (holders = new Set()));
        holders.add(sub);
      }
      return;
    }
    if (body.case === "error") {
      if (body.value.code === "unknown_subscription") return;  // an unsubscribe crossed a close
      const sub = this.pending.shift();
      sub?.handlers.error?.(body.value.code, body.value.message);
      return;
    }
    const holders = this.byId.get(message.subscription);
    if (!holders) return;
    for (const sub of holders) {
      if (sub.handlers.message(message) === false) {
        sub.resync();
        continue;
      }
      sub.resyncing = false;
      sub.first = false;
      if (message.version > sub.version) sub.version = message.version;
    }
  }
}
