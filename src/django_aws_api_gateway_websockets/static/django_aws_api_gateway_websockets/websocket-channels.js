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
    this._catching = new Map(); // channel -> { buffer: Map(seq -> message), outstanding }
    this._waiters = new Map(); // channel -> [{ resolve, reject, messages }] of history()
    this._open = false;
    this._unanswered = new Set(); // subscribe requests of this connection
    this._pendingResume = new Map(); // channel -> seq, sent once no subscribe is unanswered
    this._pendingHistory = new Map(); // channel -> limit
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
    this._pendingResume.delete(channel);
    this._pendingPresence.delete(channel);
    this._catching.delete(channel);
    this._rejectWaiters(channel, "unsubscribed", "unsubscribed before the history came");
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
    this._catchingState(channel);
    this._pendingHistory.set(channel, Math.max(limit, this._pendingHistory.get(channel) || 0));
    const promise = new Promise((resolve, reject) => {
      const waiters = this._waiters.get(channel) || [];
      waiters.push({ resolve, reject, limit, messages: [] });
      this._waiters.set(channel, waiters);
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
    // Requests sent on the old connection will never be answered.
    for (const [channel, state] of this._catching) {
      state.outstanding = 0;
      const waiting = this._waiters.get(channel);
      if (waiting) {
        for (const waiter of waiting) waiter.messages = [];
        this._pendingHistory.set(channel, Math.max(...waiting.map((waiter) => waiter.limit)));
      }
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
        state.buffer.set(entry.seq, entry); // another answer in flight fills the gap
      }
    }
    const waiting = this._waiters.get(channel) || [];
    for (const waiter of waiting) waiter.messages.push(...entries);
    const complete = entries.length === 0 || entries.at(-1).seq >= lastSeq;
    if (!complete) return;
    this._waiters.delete(channel);
    for (const waiter of waiting) {
      waiter.resolve({ channel, messages: waiter.messages, lastSeq });
    }
    this._answered(channel);
  }

  _reset({ channel, last_seq: lastSeq }) {
    this._forgetSeq(channel);
    const state = this._catching.get(channel);
    if (state) {
      // What was held back belongs to the state the page is told to reload.
      state.buffer.clear();
      state.outstanding = Math.max(0, state.outstanding - 1);
    }
    this._emit("reset", { channel, lastSeq: isSeq(lastSeq) ? lastSeq : null });
    this._finishIfDone(channel);
  }

  _answered(channel) {
    const state = this._catching.get(channel);
    if (!state) return;
    state.outstanding = Math.max(0, state.outstanding - 1);
    this._finishIfDone(channel);
  }

  // Once every request of a catch-up is answered, release what was held back, in order.
  _finishIfDone(channel) {
    const state = this._catching.get(channel);
    if (!state || state.outstanding > 0) return;
    if (this._pendingResume.has(channel) || this._pendingHistory.has(channel)) return;
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
      state = { buffer: new Map(), outstanding: 0 };
      this._catching.set(channel, state);
    }
    return state;
  }

  // Ask for what came after the last seq of `channel`, if there is one.
  _catchUp(channel) {
    if (!channel) return;
    const last = this.lastSeq(channel);
    if (last === null) return;
    this._catchingState(channel);
    this._pendingResume.set(channel, last);
  }

  // -- requests, once the connection's subscribe requests are answered -------------

  _flushIfAnswered() {
    if (!this._open || this._unanswered.size) return;
    const resume = [...this._pendingResume];
    this._pendingResume.clear();
    for (let start = 0; start < resume.length; start += RESUME_BATCH) {
      const batch = resume.slice(start, start + RESUME_BATCH);
      for (const [channel] of batch) this._catchingState(channel).outstanding += 1;
      this._send(this.names.resume, { channels: Object.fromEntries(batch) });
    }
    const history = [...this._pendingHistory];
    this._pendingHistory.clear();
    for (const [channel, limit] of history) {
      this._catchingState(channel).outstanding += 1;
      this._send(this.names.history, { channel, limit });
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
    } else if (request === this.names.history) {
      this._rejectWaiters(channel, detail.reason, detail.message);
    }
    this._emit("channelrefused", detail);
    if (request === this.names.resume || request === this.names.history) this._answered(channel);
    this._flushIfAnswered();
  }

  _rejectWaiters(channel, reason, message) {
    const waiting = this._waiters.get(channel) || [];
    this._waiters.delete(channel);
    for (const waiter of waiting) {
      waiter.reject(new ChannelRefusedError({ request: this.names.history, channel, reason, message }));
    }
  }

  // -- presence -------------------------------------------------------------------

  _presence({ channel, members }) {
    const map = new Map();
    for (const member of members) if (isMember(member)) map.set(String(member.user), member.data ?? {});
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

function requireChannel(channel, method) {
  if (typeof channel !== "string" || !channel) {
    throw new TypeError(`${method}() needs a channel name`);
  }
}
