// The channel side of websocket-client.js: subscriptions, presence, and the ordered
// stream of channel messages that survives reconnects (docs/channels.rst).
//
// A connection's subscriptions, presence and history requests live on the server only as
// long as the connection does, so every time a connection opens this module subscribes
// again, waits for the answers, then sends one `resume` with the last sequence number
// seen per channel. While a channel is catching up, its live messages are held back and
// delivered after the history, so the page sees each sequence number once, in order,
// with no gap; a live message that skips a number starts a catch-up of its own.

/** The handler names of the channel requests; the `channelMessages` option renames them. */
export const CHANNEL_MESSAGES = Object.freeze({
  subscribe: "subscribe",
  unsubscribe: "unsubscribe",
  presence: "presence",
  resume: "resume",
  history: "history",
});

/** How many channels one `resume` names at most (the server takes the primary + 100). */
export const RESUME_BATCH = 100;

/** Rejects history() when the server refused the request; `reason` is its code. */
export class ChannelRefusedError extends Error {
  constructor({ request, channel, reason, message }) {
    super(message || `${request} of ${channel} refused (${reason})`);
    this.name = "ChannelRefusedError";
    this.request = request;
    this.channel = channel;
    this.reason = reason;
  }
}

// The messages this module consumes: a `type` it knows and a string `channel`.
const SHAPES = {
  message: (data) => "seq" in data && "data" in data,
  history: (data) => Array.isArray(data.messages),
  reset: () => true,
  subscribed: () => true,
  unsubscribed: () => true,
  presence: (data) => Array.isArray(data.members),
  member_added: (data) => isMember(data.member),
  member_removed: (data) => isMember(data.member),
  refused: (data) => typeof data.request === "string",
};

function isMember(member) {
  return member !== null && typeof member === "object" && "user" in member;
}

function isSeq(value) {
  return Number.isSafeInteger(value) && value >= 0;
}

/**
 * The channel state of one ApiGatewayWebSocket. `emit(type, detail)` dispatches an event
 * on the client; `send(handler, payload)` sends a request when the client is open.
 *
 * A channel that is catching up has a queue of `resume` and `history` requests, sent one
 * at a time: both are answered by `history` messages that do not say which request they
 * answer, so the head of the queue is the request being answered.
 */
export class ChannelTracker {
  constructor({ names, storage, storageKey, emit, send, primary }) {
    this.names = { ...CHANNEL_MESSAGES, ...names };
    this.wanted = new Set(); // subscribe() calls not undone, in call order
    this._storage = storage || null;
    this._storageKey = storageKey;
    this._emit = emit;
    this._send = send;
    this._primary = primary; // () => the client's channel
    this._seqs = new Map(); // channel -> last delivered seq (null: start afresh)
    this._members = new Map(); // channel -> Map(user -> data)
    this._watched = new Set(); // channels whose presence is asked again on every open
    this._presenceParts = new Map(); // channel -> members of a presence answer so far
    // channel -> { buffer: Map(seq -> message), queue: [request], sent: boolean }, where
    // a request is { kind: "resume" } or { kind: "history", limit, waiters, messages }.
    this._catching = new Map();
    this._open = false;
    this._unanswered = new Set(); // subscribe requests of this connection
    this._pendingPresence = new Set();
  }

  // -- what the page calls --------------------------------------------------------

  subscribe(channel) {
    requireChannel(channel, "subscribe");
    if (this.wanted.has(channel)) return;
    this.wanted.add(channel);
    if (!this._open) return;
    this._unanswered.add(channel);
    this._send(this.names.subscribe, { channel });
  }

  unsubscribe(channel) {
    requireChannel(channel, "unsubscribe");
    this.wanted.delete(channel);
    this._watched.delete(channel);
    this._members.delete(channel);
    this._unanswered.delete(channel);
    this._pendingPresence.delete(channel);
    const state = this._catching.get(channel);
    this._catching.delete(channel);
    for (const request of state ? state.queue : []) {
      rejectWaiters(request, { request: this.names.history, channel, reason: "unsubscribed" });
    }
    if (this._open) this._send(this.names.unsubscribe, { channel });
    this._flushIfAnswered();
  }

  presence(channel) {
    requireChannel(channel, "presence");
    this._watched.add(channel);
    this._pendingPresence.add(channel);
    this._flushIfAnswered();
  }

  members(channel) {
    return this._members.get(channel) || new Map();
  }

  history(channel, limit) {
    requireChannel(channel, "history");
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new TypeError("history() needs a limit of 1 or more");
    }
    const state = this._catchingState(channel);
    const promise = new Promise((resolve, reject) => {
      // One request not yet sent answers every history() call made meanwhile.
      const waiting = state.queue.find(
        (request, index) => request.kind === "history" && !(index === 0 && state.sent),
      );
      const waiter = { resolve, reject };
      if (waiting) {
        waiting.limit = Math.max(waiting.limit, limit);
        waiting.waiters.push(waiter);
      } else {
        state.queue.push({ kind: "history", limit, waiters: [waiter], messages: [] });
      }
    });
    this._flushIfAnswered();
    return promise;
  }

  lastSeq(channel) {
    if (this._seqs.has(channel)) return this._seqs.get(channel);
    let stored = null;
    try {
      stored = this._storage ? this._storage.getItem(this._storageKey + channel) : null;
    } catch {
      // Storage that refuses to be read (privacy modes) keeps seqs in memory only.
    }
    const seq = stored === null ? null : Number(stored);
    return isSeq(seq) ? seq : null;
  }

  // -- what the client calls ------------------------------------------------------

  /** A connection opened: subscribe again, then resume and ask presence and history. */
  opened() {
    this._open = true;
    this._unanswered = new Set();
    this._presenceParts.clear(); // the rest of an answer went with the old connection
    // A request sent on the old connection will never be answered: send it again.
    for (const state of this._catching.values()) {
      state.sent = false;
      if (state.queue[0]?.kind === "history") state.queue[0].messages = [];
    }
    for (const channel of this._watched) this._pendingPresence.add(channel);
    this._catchUp(this._primary());
    for (const channel of this.wanted) {
      this._unanswered.add(channel);
      this._send(this.names.subscribe, { channel });
    }
    for (const channel of [...this._catching.keys()]) this._finishIfDone(channel);
    this._flushIfAnswered();
  }

  /** The connection is gone (a reconnect or close follows). */
  closed() {
    this._open = false;
  }

  /** Handle a message if it is one of the channel messages; false if it is not. */
  handle(data) {
    if (data === null || typeof data !== "object" || typeof data.channel !== "string") {
      return false;
    }
    const shape = SHAPES[data.type];
    if (!shape || !shape(data)) return false;
    const handler = {
      message: () => this._live(data),
      history: () => this._history(data),
      reset: () => this._reset(data),
      subscribed: () => this._subscribed(data),
      unsubscribed: () => this._emit("unsubscribed", { channel: data.channel }),
      presence: () => this._presence(data),
      member_added: () => this._memberChanged(data, true),
      member_removed: () => this._memberChanged(data, false),
      refused: () => this._refused(data),
    }[data.type];
    handler();
    return true;
  }

  // -- the ordered stream ---------------------------------------------------------

  _live({ channel, seq, data }) {
    if (seq === null || seq === undefined) {
      // A channel without history: nothing to order by.
      this._emit("channelmessage", { channel, seq: null, data, sentAt: null, replayed: false });
      return;
    }
    if (!isSeq(seq)) return;
    const state = this._catching.get(channel);
    if (state) {
      state.buffer.set(seq, { seq, data, sent_at: null });
      return;
    }
    this._offer(channel, { seq, data, sent_at: null }, false);
  }

  // Deliver `message` if it is the next one; hold it and catch up if it skips some.
  _offer(channel, message, replayed) {
    const last = this.lastSeq(channel);
    if (last !== null && message.seq <= last) return; // seen already
    if (last !== null && message.seq > last + 1) {
      this._catchingState(channel).buffer.set(message.seq, message);
      this._catchUp(channel);
      this._flushIfAnswered();
      return;
    }
    this._setSeq(channel, message.seq);
    this._emit("channelmessage", {
      channel,
      seq: message.seq,
      data: message.data,
      sentAt: message.sent_at || null,
      replayed,
    });
  }

  _history({ channel, messages, last_seq: lastSeq }) {
    const entries = messages.filter((entry) => entry && isSeq(entry.seq));
    entries.sort((a, b) => a.seq - b.seq);
    const state = this._catching.get(channel);
    for (const entry of entries) {
      const last = this.lastSeq(channel);
      if (last === null || entry.seq === last + 1) {
        this._offer(channel, entry, true);
      } else if (entry.seq > last + 1 && state) {
        state.buffer.set(entry.seq, entry); // delivered once the gap is filled
      }
    }
    const request = this._answering(channel);
    if (request?.kind === "history") request.messages.push(...entries);
    const complete = entries.length === 0 || entries.at(-1).seq >= lastSeq;
    if (!complete || !request) return;
    for (const waiter of request.waiters || []) {
      waiter.resolve({ channel, messages: request.messages, lastSeq });
    }
    this._answered(channel);
  }

  _reset({ channel, last_seq: lastSeq }) {
    this._forgetSeq(channel);
    const state = this._catching.get(channel);
    // What was held back belongs to the state the page is told to reload.
    if (state) state.buffer.clear();
    this._emit("reset", { channel, lastSeq: isSeq(lastSeq) ? lastSeq : null });
    if (this._answering(channel)) this._answered(channel);
  }

  // The request the next answer of `channel` belongs to: the head of its queue, if sent.
  _answering(channel) {
    const state = this._catching.get(channel);
    return state && state.sent ? state.queue[0] : null;
  }

  _answered(channel) {
    const state = this._catching.get(channel);
    state.queue.shift();
    state.sent = false;
    this._finishIfDone(channel);
    this._flushIfAnswered();
  }

  // Once every request of a catch-up is answered, release what was held back, in order.
  _finishIfDone(channel) {
    const state = this._catching.get(channel);
    if (!state || state.queue.length) return;
    this._catching.delete(channel);
    const held = [...state.buffer.values()].sort((a, b) => a.seq - b.seq);
    for (const message of held) {
      if (this._catching.has(channel)) {
        this._catching.get(channel).buffer.set(message.seq, message);
      } else {
        this._offer(channel, message, false);
      }
    }
  }

  _catchingState(channel) {
    let state = this._catching.get(channel);
    if (!state) {
      state = { buffer: new Map(), queue: [], sent: false };
      this._catching.set(channel, state);
    }
    return state;
  }

  // Ask for what came after the last seq of `channel`, if there is one. A history
  // request already queued does instead: a gap after its answer resumes then.
  _catchUp(channel) {
    if (!channel || this.lastSeq(channel) === null) return;
    const state = this._catchingState(channel);
    const covered = state.queue.some(
      (request, index) => request.kind === "history" || (request.kind === "resume" && index > 0),
    );
    if (state.queue.length && (covered || !state.sent)) return;
    state.queue.push({ kind: "resume" });
  }

  // -- requests, once the connection's subscribe requests are answered -------------

  _flushIfAnswered() {
    if (!this._open || this._unanswered.size) return;
    const resume = [];
    for (const [channel, state] of [...this._catching]) {
      if (state.sent) continue;
      // After a reset a resume has nothing to start from.
      while (state.queue[0]?.kind === "resume" && this.lastSeq(channel) === null) {
        state.queue.shift();
      }
      if (!state.queue.length) {
        this._finishIfDone(channel);
        continue;
      }
      const request = state.queue[0];
      state.sent = true;
      if (request.kind === "history") {
        this._send(this.names.history, { channel, limit: request.limit });
      } else {
        resume.push([channel, this.lastSeq(channel)]);
      }
    }
    for (let start = 0; start < resume.length; start += RESUME_BATCH) {
      const batch = resume.slice(start, start + RESUME_BATCH);
      this._send(this.names.resume, { channels: Object.fromEntries(batch) });
    }
    const presence = [...this._pendingPresence];
    this._pendingPresence.clear();
    for (const channel of presence) this._send(this.names.presence, { channel });
  }

  _subscribed({ channel }) {
    const answered = this._unanswered.delete(channel);
    if (answered && this.wanted.has(channel)) this._catchUp(channel);
    this._emit("subscribed", { channel });
    this._flushIfAnswered();
  }

  _refused(data) {
    const { request, channel } = data;
    const detail = {
      request,
      channel,
      reason: typeof data.reason === "string" ? data.reason : "",
      message: typeof data.message === "string" ? data.message : "",
    };
    if (request === this.names.subscribe) {
      this.wanted.delete(channel);
      this._unanswered.delete(channel);
    } else if (request === this.names.presence) {
      this._watched.delete(channel);
    }
    const answering = this._answering(channel);
    const answers =
      (request === this.names.resume && answering?.kind === "resume") ||
      (request === this.names.history && answering?.kind === "history");
    if (answers) rejectWaiters(answering, detail);
    this._emit("channelrefused", detail);
    if (answers) {
      this._answered(channel);
    } else {
      this._flushIfAnswered();
    }
  }

  // -- presence -------------------------------------------------------------------

  // A long list comes in several messages, all but the last with `more: true`.
  _presence({ channel, members, more }) {
    const map = this._presenceParts.get(channel) || new Map();
    for (const member of members) if (isMember(member)) map.set(String(member.user), member.data ?? {});
    if (more === true) {
      this._presenceParts.set(channel, map);
      return;
    }
    this._presenceParts.delete(channel);
    this._members.set(channel, map);
    this._emit("presence", { channel, members: map });
  }

  _memberChanged({ channel, member }, added) {
    const map = this._members.get(channel) || new Map();
    this._members.set(channel, map);
    const user = String(member.user);
    if (added) {
      map.set(user, member.data ?? {});
    } else {
      map.delete(user);
    }
    const type = added ? "member_added" : "member_removed";
    this._emit(type, { channel, member: { user, data: member.data ?? {} }, members: map });
  }

  // -- seqs -----------------------------------------------------------------------

  _setSeq(channel, seq) {
    this._seqs.set(channel, seq);
    this._store((storage, key) => storage.setItem(key, String(seq)), channel);
  }

  _forgetSeq(channel) {
    this._seqs.set(channel, null);
    this._store((storage, key) => storage.removeItem(key), channel);
  }

  _store(write, channel) {
    if (!this._storage) return;
    try {
      write(this._storage, this._storageKey + channel);
    } catch {
      // A full or read-only storage: the seq stays in memory.
    }
  }
}

function rejectWaiters(request, detail) {
  for (const waiter of request.waiters || []) waiter.reject(new ChannelRefusedError(detail));
}

function requireChannel(channel, method) {
  if (typeof channel !== "string" || !channel) {
    throw new TypeError(`${method}() needs a channel name`);
  }
}
