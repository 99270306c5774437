// Fakes for the client's injection points: a manual clock, a WebSocket the test drives,
// and a token endpoint that answers what the test queues. No network, no real timers.

import { ApiGatewayWebSocket } from "../../src/django_aws_api_gateway_websockets/static/django_aws_api_gateway_websockets/websocket-client.js";

/** Let every pending promise continuation run. */
export const flush = () => new Promise((resolve) => setImmediate(resolve));

export class Clock {
  constructor() {
    this.now = 0;
    this.timers = new Map();
    this.nextId = 1;
    this.setTimeout = (fn, ms) => {
      const id = this.nextId++;
      this.timers.set(id, { at: this.now + ms, fn });
      return id;
    };
    this.clearTimeout = (id) => this.timers.delete(id);
  }

  /** Move time forward to the next timer and run it (the pending retry, usually). */
  async runNext() {
    const next = Math.min(...[...this.timers.values()].map((timer) => timer.at));
    if (!Number.isFinite(next)) throw new Error("no timer pending");
    await this.advance(next - this.now);
  }

  /** Move time forward, running due timers in order (and the promises they start). */
  async advance(ms) {
    const end = this.now + ms;
    for (;;) {
      let nextId = null;
      let next = null;
      for (const [id, timer] of this.timers) {
        if (timer.at <= end && (next === null || timer.at < next.at)) {
          nextId = id;
          next = timer;
        }
      }
      if (next === null) break;
      this.timers.delete(nextId);
      this.now = next.at;
      next.fn();
      await flush();
    }
    this.now = end;
    await flush();
  }
}

export function fakeSocketClass() {
  class FakeSocket {
    static instances = [];

    constructor(url) {
      this.url = url;
      this.sent = [];
      this.readyState = 0;
      this.closedWith = null;
      FakeSocket.instances.push(this);
    }

    get params() {
      return new URL(this.url).searchParams;
    }

    send(text) {
      if (this.readyState !== 1) throw new Error("InvalidStateError: not open");
      this.sent.push(text);
    }

    close(code) {
      this.closedWith = code ?? 1005;
      this.readyState = 3;
    }

    // What the server side does:
    accept() {
      this.readyState = 1;
      this.onopen?.({});
    }

    receive(data) {
      this.onmessage?.({ data });
    }

    drop(code = 1006, reason = "") {
      this.readyState = 3;
      this.onclose?.({ code, reason });
    }

    static get last() {
      return FakeSocket.instances.at(-1);
    }
  }
  return FakeSocket;
}

function fakeResponse({ status = 200, body, text, headers = {} }) {
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: new Headers(headers),
    json: async () => {
      if (body === undefined) throw new SyntaxError("not JSON");
      return body;
    },
    text: async () => text ?? JSON.stringify(body),
  };
}

/** A token endpoint: answers queued with `answer()`, else a new token each time. */
export function fakeTokenEndpoint() {
  const endpoint = {
    calls: [],
    queued: [],
    issued: 0,
    answer(...answers) {
      endpoint.queued.push(...answers);
    },
    fetch: async (url, init) => {
      endpoint.calls.push({ url, init });
      const answer = endpoint.queued.shift();
      if (answer instanceof Error) throw answer;
      if (answer) return fakeResponse(answer);
      endpoint.issued += 1;
      return fakeResponse({ body: { token: `token-${endpoint.issued}`, expires_in: 60 } });
    },
  };
  return endpoint;
}

/** A client wired to fresh fakes; returns everything a test needs to drive it. */
export function makeClient(options = {}) {
  const clock = new Clock();
  const FakeSocket = fakeSocketClass();
  const tokens = fakeTokenEndpoint();
  const events = [];
  const network = new EventTarget(); // stands for the browser window's "online" events
  const client = new ApiGatewayWebSocket({
    url: "wss://ws.example.com/production",
    tokenUrl: "/api/ws-token/",
    channel: "lobby",
    WebSocket: FakeSocket,
    fetch: tokens.fetch,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: () => clock.now,
    random: () => 0.5,
    getCookie: (name) => (name === "csrftoken" ? "csrf-from-cookie" : null),
    onlineTarget: network,
    autoConnect: false,
    ...options,
  });
  for (const type of ["open", "message", "reconnecting", "refused", "close"]) {
    client.addEventListener(type, (event) => events.push({ type, ...event.detail }));
  }
  const ofType = (type) => events.filter((event) => event.type === type);
  return { client, clock, FakeSocket, tokens, events, ofType, network };
}

/** Connect and accept the first socket: an open client. */
export async function openClient(options = {}) {
  const parts = makeClient(options);
  parts.client.connect();
  await flush();
  parts.FakeSocket.last.accept();
  return parts;
}
