// A browser client for Django views served through AWS API Gateway WebSockets.
//
// API Gateway imposes limits a plain WebSocket knows nothing about: every connection needs
// a fresh single-use token from Django, connections idle for 10 minutes are closed, no
// connection lives longer than 2 hours, and messages are capped at 128 KB. This module
// handles all of them so that pages only deal with "open", "message", "reconnecting" and
// "close". ES module, no build step, no dependencies. Types: websocket-client.d.ts.
// Channels (subscriptions, presence, history and resume) are in websocket-channels.js.

import { CHANNEL_MESSAGES, ChannelTracker } from "./websocket-channels.js";

export { CHANNEL_MESSAGES, ChannelRefusedError } from "./websocket-channels.js";

/** The largest message API Gateway accepts, in bytes of UTF-8. */
export const MAX_MESSAGE_BYTES = 128 * 1024;

/**
 * The largest frame API Gateway accepts. Browsers send every message as one frame, so
 * from a browser this is the real limit: a bigger frame closes the connection (1009).
 */
export const MAX_FRAME_BYTES = 32 * 1024;

/** Defaults of every option; see the .d.ts for what each one means. */
export const DEFAULTS = Object.freeze({
  channel: "",
  params: {},
  csrfCookieName: "csrftoken",
  csrfToken: null,
  credentials: "same-origin",
  initialDelayMs: 1000,
  maxDelayMs: 30000,
  maxRetries: Infinity,
  resetBackoffAfterMs: 5000,
  connectTimeoutMs: 30000,
  // Under API Gateway's 10-minute idle limit with room for background-tab timer
  // throttling. Each heartbeat is a billed message and a request to Django.
  heartbeatIntervalMs: 8 * 60 * 1000,
  heartbeatMessage: { action: "heartbeat" },
  // Before API Gateway's 2-hour cap, so the new connection is ready when the old one ends.
  rotateAfterMs: 115 * 60 * 1000,
  maxQueuedMessages: 100,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  maxFrameBytes: MAX_FRAME_BYTES,
  // Message ids remembered to drop a second copy (background sends with message_id=True
  // are delivered at least once). 0 turns the check off.
  rememberMessageIds: 1000,
  // The handler names of the channel requests, for a view that renamed them.
  channelMessages: CHANNEL_MESSAGES,
  // Where the last seq of each channel is kept across page loads (localStorage), if any.
  seqStorage: null,
  seqStorageKey: "apigw-ws-seq:",
  autoConnect: true,
});

/** Raised by send() when a message is larger than maxMessageBytes or maxFrameBytes. */
export class MessageTooLargeError extends RangeError {
  constructor(size, limit, what = "message") {
    super(`Message is ${size} bytes, over API Gateway's ${what} limit of ${limit} bytes`);
    this.name = "MessageTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/** Raised by send() while reconnecting when the queue already holds maxQueuedMessages. */
export class QueueFullError extends Error {
  constructor(limit) {
    super(`${limit} messages are already waiting for the connection`);
    this.name = "QueueFullError";
    this.limit = limit;
  }
}

/** Raised by send() after the client closed for good. */
export class ClosedError extends Error {
  constructor(reason) {
    super(`The connection is closed (${reason}); call connect() to open it again`);
    this.name = "ClosedError";
    this.reason = reason;
  }
}

/** The event type of every event the client dispatches; details are in `detail`. */
export class ClientEvent extends Event {
  constructor(type, detail) {
    super(type);
    this.detail = detail;
  }
}

/** Full-jitter exponential backoff: a random delay in [0, min(cap, base * 2^attempt)). */
export function backoffDelay(attempt, initialDelayMs, maxDelayMs, random = Math.random) {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 52));
  return Math.floor(random() * ceiling);
}

/** The UTF-8 size of a string, as API Gateway counts it. */
export function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

/** A cookie's value from a `document.cookie`-style string, or null. */
export function readCookie(cookieString, name) {
  for (const part of (cookieString || "").split(";")) {
    const separator = part.indexOf("=");
    if (separator > -1 && part.slice(0, separator).trim() === name) {
      return decodeURIComponent(part.slice(separator + 1).trim());
    }
  }
  return null;
}

/** The settings the `websocket_config` template tag put into the page, or {}. */
export function readPageConfig(elementId = "websocket-config", doc = globalThis.document) {
  const element = doc && doc.getElementById(elementId);
  return element ? JSON.parse(element.textContent) : {};
}

/**
 * The token view's machine-readable refusals (`{"error", "reason"}`) and what the client
 * does about each: stop ("auth", "refused") or try again later ("rate-limited").
 */
export const REFUSALS = Object.freeze({
  not_authenticated: "auth",
  forbidden_channel: "refused",
  invalid_channel: "refused",
  bad_origin: "refused",
  rate_limited: "rate-limited",
});

class TokenError extends Error {
  constructor(kind, message, refusal = null, retryAfterMs = refusal ? refusal.retryAfterMs : 0) {
    super(message);
    this.kind = kind; // "auth", "refused", "rate-limited" or "unavailable"
    this.refusal = refusal; // { code, status, retryAfterMs } when the server said why
    this.retryAfterMs = retryAfterMs;
  }
}

function defaultCookieReader(name) {
  return readCookie(globalThis.document ? globalThis.document.cookie : "", name);
}

// Seconds of a Retry-After header or a `retry_after` field, in ms; 0 when absent.
function retryAfterMs(value) {
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) * 1000 : 0;
}

// What the token view said: `{ text, code, retryAfterMs }`. `text` is short: the JSON
// refusal's `error`, a plain-text reason ("Authentication required"), or the gist of an
// HTML error page such as Django's CSRF page. `code` is the JSON refusal's `reason`.
async function readRefusal(response) {
  const header = retryAfterMs(response.headers?.get?.("Retry-After"));
  let text;
  try {
    text = (await response.text()).trim();
  } catch {
    return { text: "", code: null, retryAfterMs: header };
  }
  if (text.startsWith("{")) {
    try {
      const body = JSON.parse(text);
      return {
        text: typeof body.error === "string" ? body.error.slice(0, 200) : "",
        code: typeof body.reason === "string" ? body.reason : null,
        retryAfterMs: retryAfterMs(body.retry_after) || header,
      };
    } catch {
      // Not JSON after all: shown as text below.
    }
  }
  if (!text.startsWith("<")) return { text: text.slice(0, 200), code: null, retryAfterMs: header };
  return { text: /csrf/i.test(text) ? "CSRF verification failed" : "", code: null, retryAfterMs: header };
}

/**
 * A WebSocket to API Gateway that fetches a fresh token before every connect, reconnects
 * with backoff, keeps the connection alive and renews it before API Gateway ends it.
 */
export class ApiGatewayWebSocket extends EventTarget {
  constructor(options = {}) {
    super();
    this.options = { ...DEFAULTS, ...options };
    if (!this.options.url) throw new TypeError("options.url (the WebSocket URL) is required");
    if (!this.options.tokenUrl) throw new TypeError("options.tokenUrl is required");
    this.channel = this.options.channel || "";
    this.state = "closed";
    this.closeReason = null;
    this.refusal = null; // the token view's last refusal code, until the next open
    this._WebSocket = options.WebSocket || globalThis.WebSocket;
    this._fetch = options.fetch || ((...args) => globalThis.fetch(...args));
    this._setTimeout = options.setTimeout || ((fn, ms) => globalThis.setTimeout(fn, ms));
    this._clearTimeout = options.clearTimeout || ((id) => globalThis.clearTimeout(id));
    this._random = options.random || Math.random;
    this._now = options.now || (() => Date.now());
    this._getCookie = options.getCookie || defaultCookieReader;
    // The browser's "online" event: a device back on the network retries at once rather
    // than after the rest of a backoff delay of up to maxDelayMs.
    const windowTarget = typeof globalThis.addEventListener === "function" ? globalThis : null;
    this._onlineTarget = "onlineTarget" in options ? options.onlineTarget : windowTarget;
    this._onOnline = () => {
      if (this.state === "reconnecting") {
        this._clear("retry");
        this._attemptConnect();
      }
    };
    this._generation = 0; // bumped whenever pending async work becomes stale
    this._attempt = 0; // consecutive failures since the last stable connection
    this._ws = null;
    this._pending = null; // a socket whose handshake is under way
    this._openedAt = 0;
    this._lastSentAt = 0;
    this._openedChannel = null; // the channel of the last successful open
    this._queue = [];
    this._seenIds = new Set(); // insertion order is age: the oldest is dropped first
    this._timers = { retry: null, connect: null, heartbeat: null, rotate: null };
    this._channels = new ChannelTracker({
      names: this.options.channelMessages,
      storage: this.options.seqStorage,
      storageKey: this.options.seqStorageKey,
      emit: (type, detail) => this.dispatchEvent(new ClientEvent(type, detail)),
      send: (handler, payload) => this.send(handler, payload),
      primary: () => this.channel,
    });
    if (this.options.autoConnect) this.connect();
  }

  /** The channels subscribe() added (besides the primary one), in the order added. */
  get subscriptions() {
    return [...this._channels.wanted];
  }

  /**
   * Subscribe this connection to `channel`, and again after every reconnect, until
   * unsubscribe(). A "subscribed" or "channelrefused" event answers.
   */
  subscribe(channel) {
    this._channels.subscribe(channel);
  }

  /** Leave a channel subscribe() added; an "unsubscribed" event answers. */
  unsubscribe(channel) {
    this._channels.unsubscribe(channel);
  }

  /** Ask who is in `channel` (again after every reconnect); a "presence" event answers. */
  presence(channel) {
    this._channels.presence(channel);
  }

  /** The members of `channel` known so far: user id -> the data the server gave. */
  members(channel) {
    return this._channels.members(channel);
  }

  /**
   * The last `limit` messages of `channel`, oldest first. Those newer than the last seq
   * seen also arrive as "channelmessage" events, in order, before any live message.
   */
  history(channel, limit = 50) {
    return this._channels.history(channel, limit);
  }

  /** The last sequence number delivered on `channel` (kept in seqStorage), or null. */
  lastSeq(channel) {
    return this._channels.lastSeq(channel);
  }

  /** Messages waiting for the connection. */
  get queuedMessages() {
    return this._queue.length;
  }

  /** Open the connection (again). Does nothing while connecting or connected. */
  connect() {
    if (this.state !== "closed") return;
    this._onlineTarget?.addEventListener("online", this._onOnline);
    this.closeReason = null;
    this.refusal = null;
    this._attempt = 0;
    this._openedChannel = null;
    this._attemptConnect();
  }

  /** Drop the current connection, if any, and connect again at once with a fresh token. */
  reconnect() {
    if (this.state === "closed") this._onlineTarget?.addEventListener("online", this._onOnline);
    this._stop();
    this.closeReason = null;
    this.refusal = null;
    this._attempt = 0;
    this._attemptConnect();
  }

  /** Close for good; no reconnect follows. Queued messages are dropped. */
  close(code = 1000, reason = "") {
    this._finish("client", reason || "closed by the page", code);
  }

  /**
   * Send `payload` to the Django handler named `handler`. `action` (API Gateway's route
   * key) is the handler name unless `options.route` names another route. Returns true if
   * the message went out now, false if it was queued until the connection opens.
   */
  send(handler, payload = {}, options = {}) {
    if (typeof handler !== "string" || !handler) {
      throw new TypeError("send() needs the handler name as its first argument");
    }
    const message = { ...payload, action: options.route || handler, handler };
    return this._sendText(JSON.stringify(message));
  }

  _sendText(text) {
    const size = utf8Length(text);
    if (size > this.options.maxMessageBytes) {
      throw new MessageTooLargeError(size, this.options.maxMessageBytes);
    }
    if (this.options.maxFrameBytes && size > this.options.maxFrameBytes) {
      throw new MessageTooLargeError(size, this.options.maxFrameBytes, "frame");
    }
    if (this.state === "closed") throw new ClosedError(this.closeReason || "not connected");
    if (this.state === "open") {
      this._ws.send(text);
      this._lastSentAt = this._now();
      return true;
    }
    if (this._queue.length >= this.options.maxQueuedMessages) {
      throw new QueueFullError(this.options.maxQueuedMessages);
    }
    this._queue.push(text);
    return false;
  }

  async _attemptConnect() {
    const generation = ++this._generation;
    this._setState("connecting");
    let token;
    try {
      token = await this._fetchToken();
    } catch (error) {
      if (generation !== this._generation) return;
      const refusal = error.refusal;
      if (refusal) {
        this.refusal = refusal.code;
        this.dispatchEvent(new ClientEvent("refused", { ...refusal, message: error.message }));
        if (generation !== this._generation) return; // a listener closed or reconnected
      }
      if (error.kind === "auth") {
        this._finish("unauthenticated", error.message);
      } else if (error.kind === "refused") {
        this._finish("refused", error.message);
      } else {
        const reason = error.kind === "rate-limited" ? "rate-limited" : "token-unavailable";
        this._retry(reason, error.message, error.retryAfterMs);
      }
      return;
    }
    if (generation !== this._generation) return;
    try {
      this._pending = this._openSocket(token);
    } catch (error) {
      // The WebSocket constructor throws only for a URL no retry can fix.
      this._finish("gave-up", `Cannot open a WebSocket: ${error.message || error}`);
      return;
    }
    this._watch(this._pending, generation, {
      timeout: () => this._retry("timeout", `No answer within ${this.options.connectTimeoutMs} ms`),
      opened: (ws) => {
        this._ws = ws;
        this._opened(false);
      },
      refused: (detail) => {
        if (this._openedChannel !== this.channel) {
          // A handshake refused right after Django issued a fresh token, on a channel this
          // client never joined: API Gateway hides Django's status, so this is the signal.
          this._finish("refused", `The server refused the connection (${detail})`);
        } else {
          this._retry("handshake-failed", `Handshake failed (${detail})`);
        }
      },
    });
  }

  // Wires the pending socket: `opened` when it opens, `refused` when it closes before
  // opening, `timeout` when it neither opens nor fails in time. A socket that opened and
  // then closes is a lost connection. Nothing fires once `generation` is stale.
  _watch(ws, generation, { opened, refused, timeout }) {
    let wasOpen = false;
    this._timers.connect = this._setTimeout(() => {
      this._timers.connect = null;
      this._discardPending();
      timeout();
    }, this.options.connectTimeoutMs);
    ws.onopen = () => {
      if (generation !== this._generation) return;
      wasOpen = true;
      this._pending = null;
      this._clear("connect");
      opened(ws);
    };
    ws.onmessage = (event) => this._dispatchMessage(event);
    ws.onclose = (event) => {
      if (generation !== this._generation) return;
      const detail = `code ${event.code}${event.reason ? `: ${event.reason}` : ""}`;
      if (wasOpen) {
        this._connectionLost(detail);
      } else {
        this._pending = null;
        this._clear("connect");
        refused(detail);
      }
    };
    ws.onerror = () => {}; // a close event always follows
  }

  _openSocket(token) {
    const query = new URLSearchParams(this.options.params);
    if (this.channel) query.set("channel", this.channel);
    query.set("ws_token", token);
    const url = this.options.url;
    return new this._WebSocket(`${url}${url.includes("?") ? "&" : "?"}${query}`);
  }

  async _fetchToken() {
    const headers = {};
    // The channel goes along, so the token view can say why a connect would be refused
    // (browsers hide the status of a refused WebSocket handshake).
    let body;
    if (this.channel) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams({ channel: this.channel }).toString();
    }
    // The cookie first: it is always current, while a token rendered into the page goes
    // stale when the user logs in again elsewhere. The option covers unreadable cookies.
    const fallback = this.options.csrfToken;
    const csrf =
      this._getCookie(this.options.csrfCookieName) ||
      (typeof fallback === "function" ? fallback() : fallback);
    if (csrf) headers["X-CSRFToken"] = csrf;
    let response;
    try {
      response = await this._fetch(this.options.tokenUrl, {
        method: "POST",
        headers,
        body,
        credentials: this.options.credentials,
        cache: "no-store",
      });
    } catch (error) {
      throw new TokenError("unavailable", `Token request failed: ${error.message || error}`);
    }
    if (!response.ok) throw await this._refusalError(response);
    let answer;
    try {
      answer = await response.json();
    } catch {
      throw new TokenError("unavailable", "Token endpoint did not answer JSON");
    }
    if (!answer || typeof answer.token !== "string" || !answer.token) {
      throw new TokenError("unavailable", "Token endpoint answered without a token");
    }
    return answer.token;
  }

  async _refusalError(response) {
    const status = response.status;
    const said = await readRefusal(response);
    const message = `Token endpoint answered ${status}${said.text ? `: ${said.text}` : ""}`;
    const kind = REFUSALS[said.code];
    if (kind) {
      const refusal = { code: said.code, status, retryAfterMs: said.retryAfterMs };
      return new TokenError(kind, message, refusal);
    }
    // A view without reason codes: its status and text.
    if (status === 429 || ((status === 401 || status === 403) && /rate limit/i.test(said.text))) {
      return new TokenError("rate-limited", message, null, said.retryAfterMs);
    }
    if (status === 401 || status === 403) return new TokenError("auth", message);
    return new TokenError("unavailable", `Token endpoint answered ${status}`);
  }

  _opened(rotated) {
    this._clear("heartbeat");
    this._clear("rotate");
    const now = this._now();
    this._openedAt = now;
    this._lastSentAt = now;
    this._openedChannel = this.channel;
    this.refusal = null;
    this._setState("open");
    const queue = this._queue;
    this._queue = [];
    for (const text of queue) this._ws.send(text);
    if (queue.length) this._lastSentAt = this._now();
    this._armHeartbeat();
    this._armRotation();
    this._channels.opened();
    this.dispatchEvent(new ClientEvent("open", { rotated, flushed: queue.length }));
  }

  _connectionLost(detail) {
    this._ws = null;
    this._discardPending();
    if (this._now() - this._openedAt >= this.options.resetBackoffAfterMs) this._attempt = 0;
    this._retry("connection-lost", `Connection closed (${detail})`);
  }

  // `minDelayMs`: the server's Retry-After, which the backoff never undercuts.
  _retry(reason, message, minDelayMs = 0) {
    this._generation++;
    this._clearAll();
    if (this._attempt >= this.options.maxRetries) {
      this._finish("gave-up", `Gave up after ${this._attempt} retries; last: ${message}`);
      return;
    }
    const delayMs = Math.max(
      minDelayMs,
      backoffDelay(this._attempt, this.options.initialDelayMs, this.options.maxDelayMs, this._random),
    );
    this._attempt += 1;
    this._setState("reconnecting");
    this.dispatchEvent(
      new ClientEvent("reconnecting", {
        attempt: this._attempt,
        delayMs,
        reason,
        message,
        ...this._refusalDetail(),
      }),
    );
    this._timers.retry = this._setTimeout(() => this._attemptConnect(), delayMs);
  }

  _finish(reason, message, code = 1000) {
    const wasClosed = this.state === "closed";
    this._stop(code);
    const dropped = this._queue.length;
    this._queue = [];
    if (wasClosed && this.closeReason) return;
    this._onlineTarget?.removeEventListener("online", this._onOnline);
    this.closeReason = reason;
    this._setState("closed");
    this.dispatchEvent(
      new ClientEvent("close", { reason, message, dropped, ...this._refusalDetail() }),
    );
  }

  // `{ refusal }` when the token view's refusal is behind this event, else nothing.
  _refusalDetail() {
    return this.refusal ? { refusal: this.refusal } : {};
  }

  _stop(code = 1000) {
    this._generation++;
    this._clearAll();
    this._discardPending();
    if (this._ws) {
      const ws = this._ws;
      this._ws = null;
      this._detach(ws, code);
    }
  }

  _detach(ws, code = 1000) {
    ws.onopen = ws.onclose = ws.onmessage = ws.onerror = null;
    try {
      ws.close(code);
    } catch {
      // A socket that never opened may refuse a close code; it is gone either way.
    }
  }

  _discardPending() {
    if (this._pending) {
      this._detach(this._pending);
      this._pending = null;
    }
  }

  _dispatchMessage(event) {
    const raw = event.data;
    let data = raw;
    if (typeof raw === "string") {
      try {
        data = JSON.parse(raw);
      } catch {
        data = raw;
      }
    }
    if (this._isDuplicate(data)) return;
    if (this._channels.handle(data)) return;
    this.dispatchEvent(new ClientEvent("message", { data, raw }));
  }

  /** Whether a message with this `message_id` was already dispatched (and remember it). */
  _isDuplicate(data) {
    const limit = this.options.rememberMessageIds;
    const id = data !== null && typeof data === "object" ? data.message_id : undefined;
    if (!limit || typeof id !== "string") return false;
    if (this._seenIds.has(id)) return true;
    this._seenIds.add(id);
    if (this._seenIds.size > limit) this._seenIds.delete(this._seenIds.values().next().value);
    return false;
  }

  _armHeartbeat() {
    const interval = this.options.heartbeatIntervalMs;
    if (!interval) return;
    const wait = Math.max(0, interval - (this._now() - this._lastSentAt));
    this._timers.heartbeat = this._setTimeout(() => {
      if (this.state !== "open") return;
      if (this._now() - this._lastSentAt >= interval) {
        this._sendText(JSON.stringify(this.options.heartbeatMessage));
      }
      this._armHeartbeat();
    }, wait);
  }

  _armRotation() {
    if (!this.options.rotateAfterMs) return;
    this._timers.rotate = this._setTimeout(() => this._rotate(), this.options.rotateAfterMs);
  }

  // Make before break: open the replacement first, then close the old connection, so no
  // message is lost (one sent in the instant both exist may arrive twice). If renewing
  // fails, the old connection carries on and is replaced the usual way when it ends.
  async _rotate() {
    const generation = this._generation;
    const retryLater = () => {
      if (generation !== this._generation) return;
      this._discardPending();
      this._timers.rotate = this._setTimeout(() => this._rotate(), this.options.maxDelayMs);
    };
    let token;
    try {
      token = await this._fetchToken();
    } catch {
      retryLater();
      return;
    }
    if (generation !== this._generation) return;
    try {
      this._pending = this._openSocket(token);
    } catch {
      retryLater();
      return;
    }
    this._watch(this._pending, generation, {
      timeout: retryLater,
      refused: retryLater,
      opened: (ws) => {
        const old = this._ws;
        this._ws = ws;
        this._detach(old, 1000);
        this._opened(true);
      },
    });
  }

  _setState(state) {
    if (state !== "open") this._channels.closed();
    this.state = state;
  }

  _clear(name) {
    if (this._timers[name] !== null) {
      this._clearTimeout(this._timers[name]);
      this._timers[name] = null;
    }
  }

  _clearAll() {
    for (const name of Object.keys(this._timers)) this._clear(name);
  }
}
