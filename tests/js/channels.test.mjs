// Channels in the client: subscriptions kept across reconnects, presence, and the
// ordered stream of channel messages (history first, then live, each seq once, no gap).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ChannelRefusedError } from "../../src/django_aws_api_gateway_websockets/static/django_aws_api_gateway_websockets/websocket-client.js";
import { flush, makeClient, openClient } from "./helpers.mjs";

const CHANNEL_EVENTS = [
  "channelmessage",
  "subscribed",
  "unsubscribed",
  "presence",
  "member_added",
  "member_removed",
  "reset",
  "channelrefused",
];

/** Record the channel events of a client made by makeClient() or openClient(). */
function recordChannelEvents(parts) {
  for (const type of CHANNEL_EVENTS) {
    parts.client.addEventListener(type, (event) => parts.events.push({ type, ...event.detail }));
  }
  parts.delivered = (channel) =>
    parts
      .ofType("channelmessage")
      .filter((event) => event.channel === channel)
      .map((event) => event.seq);
}

/** An open client on channel "lobby" that records the channel events too. */
async function channelClient(options = {}) {
  const parts = await openClient(options);
  recordChannelEvents(parts);
  const socket = () => parts.FakeSocket.last;
  parts.requests = () => socket().sent.map((text) => JSON.parse(text));
  parts.lastRequest = () => parts.requests().at(-1);
  parts.serverSends = (...messages) => {
    for (const message of messages) socket().receive(JSON.stringify(message));
  };
  /** Lose the connection and open the next one. */
  parts.reconnect = async () => {
    socket().drop();
    await parts.clock.runNext();
    socket().accept();
  };
  return parts;
}

const live = (channel, seq, data = `m${seq}`) => ({ type: "message", channel, seq, data });
const history = (channel, seqs, lastSeq = seqs.at(-1) ?? 0) => ({
  type: "history",
  channel,
  messages: seqs.map((seq) => ({ seq, data: `m${seq}`, sent_at: "2026-12-01T10:00:00Z" })),
  last_seq: lastSeq,
});

class MemoryStorage {
  constructor(entries = {}) {
    this.items = new Map(Object.entries(entries));
  }

  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }

  setItem(key, value) {
    this.items.set(key, String(value));
  }

  removeItem(key) {
    this.items.delete(key);
  }
}

describe("subscriptions", () => {
  test("subscribe sends the request and the answer is an event", async () => {
    const { client, lastRequest, serverSends, ofType, events } = await channelClient();
    client.subscribe("room-2");
    assert.deepEqual(lastRequest(), { channel: "room-2", action: "subscribe", handler: "subscribe" });
    serverSends({ type: "subscribed", channel: "room-2" });
    assert.deepEqual(ofType("subscribed"), [{ type: "subscribed", channel: "room-2" }]);
    assert.deepEqual(client.subscriptions, ["room-2"]);
    assert.equal(events.filter((event) => event.type === "message").length, 0);
  });

  test("subscriptions are made again on every new connection", async () => {
    const parts = await channelClient();
    parts.client.subscribe("room-2");
    parts.client.subscribe("room-3");
    parts.serverSends(
      { type: "subscribed", channel: "room-2" },
      { type: "subscribed", channel: "room-3" },
    );
    await parts.reconnect();
    assert.deepEqual(
      parts.requests().map((request) => [request.handler, request.channel]),
      [
        ["subscribe", "room-2"],
        ["subscribe", "room-3"],
      ],
    );
  });

  test("subscribe before the connection opens is sent once it opens", async () => {
    const parts = await channelClient();
    parts.FakeSocket.last.drop();
    parts.client.subscribe("room-2");
    await parts.clock.runNext();
    assert.equal(parts.FakeSocket.last.sent.length, 0);
    parts.FakeSocket.last.accept();
    assert.deepEqual(parts.lastRequest().channel, "room-2");
  });

  test("unsubscribe sends the request and forgets the channel for reconnects", async () => {
    const parts = await channelClient();
    parts.client.subscribe("room-2");
    parts.client.unsubscribe("room-2");
    assert.deepEqual(parts.lastRequest(), {
      channel: "room-2",
      action: "unsubscribe",
      handler: "unsubscribe",
    });
    parts.serverSends({ type: "unsubscribed", channel: "room-2" });
    assert.equal(parts.ofType("unsubscribed").length, 1);
    await parts.reconnect();
    assert.deepEqual(parts.requests(), []);
  });

  test("a refused subscription is an event with its reason, and is not retried", async () => {
    const parts = await channelClient();
    parts.client.subscribe("staff");
    parts.serverSends({
      type: "refused",
      request: "subscribe",
      channel: "staff",
      reason: "forbidden",
      message: "You may not join staff.",
    });
    assert.deepEqual(parts.ofType("channelrefused"), [
      {
        type: "channelrefused",
        request: "subscribe",
        channel: "staff",
        reason: "forbidden",
        message: "You may not join staff.",
      },
    ]);
    assert.deepEqual(parts.client.subscriptions, []);
    await parts.reconnect();
    assert.deepEqual(parts.requests(), []);
  });

  test("channelMessages renames the handlers of every channel request", async () => {
    const names = {
      subscribe: "join",
      unsubscribe: "leave",
      presence: "who",
      resume: "catch_up",
      history: "backlog",
    };
    const parts = await channelClient({ channelMessages: names });
    parts.client.subscribe("room-2");
    parts.serverSends({ type: "subscribed", channel: "room-2" }, live("room-2", 4));
    parts.client.presence("room-2");
    parts.client.history("lobby", 5);
    parts.client.unsubscribe("room-2");
    parts.serverSends({ type: "refused", request: "join", channel: "x", reason: "forbidden" });
    await parts.reconnect();
    parts.serverSends(history("lobby", []));
    const handlers = parts.FakeSocket.instances.flatMap((socket) =>
      socket.sent.map((text) => [JSON.parse(text).handler, JSON.parse(text).action]),
    );
    assert.deepEqual(handlers, [
      ["join", "join"],
      ["who", "who"],
      ["backlog", "backlog"],
      ["leave", "leave"],
      ["backlog", "backlog"],
    ]);
    assert.equal(parts.ofType("channelrefused")[0].request, "join");
  });

  test("messages that are not channel messages still arrive as message events", async () => {
    const parts = await channelClient();
    parts.serverSends(
      { type: "message", room: "lobby", text: "a 4.1.0-style message" },
      { type: "presence", room: "lobby", users: ["alice"] },
    );
    assert.equal(parts.ofType("message").length, 2);
    assert.equal(parts.ofType("channelmessage").length, 0);
  });
});

describe("presence", () => {
  test("a members map per channel, kept from presence, member_added and member_removed", async () => {
    const parts = await channelClient();
    parts.client.presence("lobby");
    assert.deepEqual(parts.lastRequest(), { channel: "lobby", action: "presence", handler: "presence" });
    parts.serverSends({
      type: "presence",
      channel: "lobby",
      members: [
        { user: "1", data: { name: "alice" } },
        { user: "2", data: { name: "bob" } },
      ],
    });
    assert.deepEqual([...parts.client.members("lobby").keys()], ["1", "2"]);
    parts.serverSends({
      type: "member_added",
      channel: "lobby",
      member: { user: "3", data: { name: "carol" } },
    });
    parts.serverSends({ type: "member_removed", channel: "lobby", member: { user: "1" } });
    assert.deepEqual(Object.fromEntries(parts.client.members("lobby")), {
      2: { name: "bob" },
      3: { name: "carol" },
    });
    const [added] = parts.ofType("member_added");
    assert.deepEqual(added.member, { user: "3", data: { name: "carol" } });
    const [removed] = parts.ofType("member_removed");
    assert.equal(removed.member.user, "1");
    assert.equal(removed.members.has("1"), false);
    assert.equal(parts.ofType("presence")[0].members.size, 2);
    assert.equal(parts.client.members("elsewhere").size, 0);
  });

  test("a members list in several presence messages is added up", async () => {
    const parts = await channelClient();
    parts.client.presence("lobby");
    const member = (user) => ({ user, data: { name: `user ${user}` } });
    parts.serverSends({ type: "presence", channel: "lobby", members: [member("1")], more: true });
    assert.equal(parts.ofType("presence").length, 0);
    parts.serverSends({ type: "presence", channel: "lobby", members: [member("2")] });
    const [presence] = parts.ofType("presence");
    assert.deepEqual([...presence.members.keys()], ["1", "2"]);
    parts.serverSends({ type: "presence", channel: "lobby", members: [member("3")] });
    assert.deepEqual([...parts.client.members("lobby").keys()], ["3"]);
  });

  test("presence is asked again after a reconnect, once the subscriptions are answered", async () => {
    const parts = await channelClient();
    parts.client.subscribe("room-2");
    parts.serverSends({ type: "subscribed", channel: "room-2" });
    parts.client.presence("room-2");
    await parts.reconnect();
    assert.deepEqual(parts.requests().map((request) => request.handler), ["subscribe"]);
    parts.serverSends({ type: "subscribed", channel: "room-2" });
    assert.deepEqual(parts.lastRequest(), { channel: "room-2", action: "presence", handler: "presence" });
  });
});

describe("the ordered stream of channel messages", () => {
  test("live messages are delivered with their seq, and the last seq is kept", async () => {
    const storage = new MemoryStorage();
    const parts = await channelClient({ seqStorage: storage });
    parts.serverSends(live("lobby", 1), live("lobby", 2), live("lobby", 2));
    assert.deepEqual(parts.delivered("lobby"), [1, 2]);
    const [first] = parts.ofType("channelmessage");
    assert.deepEqual(first, {
      type: "channelmessage",
      channel: "lobby",
      seq: 1,
      data: "m1",
      sentAt: null,
      replayed: false,
    });
    assert.equal(parts.client.lastSeq("lobby"), 2);
    assert.equal(storage.getItem("apigw-ws-seq:lobby"), "2");
  });

  test("a channel without history delivers every message, seq null", async () => {
    const parts = await channelClient();
    parts.serverSends(live("lobby", null, "a"), live("lobby", null, "a"));
    assert.deepEqual(parts.delivered("lobby"), [null, null]);
    assert.equal(parts.client.lastSeq("lobby"), null);
  });

  test("on reconnect: subscribe, then ONE resume with the last seqs, then history before live", async () => {
    const parts = await channelClient();
    parts.client.subscribe("room-2");
    parts.serverSends({ type: "subscribed", channel: "room-2" });
    parts.serverSends(live("lobby", 1), live("lobby", 2), live("room-2", 7));
    await parts.reconnect();
    // Live messages that come before the history are held back.
    parts.serverSends(live("lobby", 5), live("room-2", 9));
    assert.deepEqual(parts.requests().map((request) => request.handler), ["subscribe"]);
    parts.serverSends({ type: "subscribed", channel: "room-2" });
    const requests = parts.requests();
    assert.equal(requests.filter((request) => request.handler === "resume").length, 1);
    assert.deepEqual(requests.at(-1), {
      channels: { lobby: 2, "room-2": 7 },
      action: "resume",
      handler: "resume",
    });
    parts.serverSends(live("lobby", 6));
    parts.serverSends(history("lobby", [3, 4, 5]));
    parts.serverSends(history("room-2", [8, 9]));
    assert.deepEqual(parts.delivered("lobby"), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(parts.delivered("room-2"), [7, 8, 9]);
    const replayed = parts.ofType("channelmessage").map((event) => [event.seq, event.replayed]);
    assert.deepEqual(replayed.slice(3), [
      [3, true],
      [4, true],
      [5, true],
      [6, false],
      [8, true],
      [9, true],
    ]);
    parts.serverSends(live("lobby", 7));
    assert.deepEqual(parts.delivered("lobby"), [1, 2, 3, 4, 5, 6, 7]);
  });

  test("a resume answered in several history messages is delivered in order", async () => {
    const parts = await channelClient();
    parts.serverSends(live("lobby", 1));
    await parts.reconnect();
    parts.serverSends(history("lobby", [2, 3], 6), live("lobby", 7), history("lobby", [4, 5, 6], 6));
    assert.deepEqual(parts.delivered("lobby"), [1, 2, 3, 4, 5, 6, 7]);
  });

  test("a resume with nothing missed releases the held messages", async () => {
    const parts = await channelClient();
    parts.serverSends(live("lobby", 1));
    await parts.reconnect();
    parts.serverSends(live("lobby", 2));
    assert.deepEqual(parts.delivered("lobby"), [1]);
    parts.serverSends(history("lobby", [], 1));
    assert.deepEqual(parts.delivered("lobby"), [1, 2]);
  });

  test("a live message that skips a seq holds it back and resumes that channel", async () => {
    const parts = await channelClient();
    parts.serverSends(live("lobby", 1), live("lobby", 2), live("lobby", 5), live("lobby", 6));
    assert.deepEqual(parts.delivered("lobby"), [1, 2]);
    assert.deepEqual(parts.lastRequest(), {
      channels: { lobby: 2 },
      action: "resume",
      handler: "resume",
    });
    parts.serverSends(history("lobby", [3, 4, 5, 6]));
    assert.deepEqual(parts.delivered("lobby"), [1, 2, 3, 4, 5, 6]);
    assert.equal(parts.requests().filter((request) => request.handler === "resume").length, 1);
  });

  test("the last seq in seqStorage resumes a reopened page", async () => {
    const storage = new MemoryStorage({ "chat:lobby": "41" });
    const parts = await channelClient({ seqStorage: storage, seqStorageKey: "chat:" });
    assert.deepEqual(parts.lastRequest(), {
      channels: { lobby: 41 },
      action: "resume",
      handler: "resume",
    });
    parts.serverSends(live("lobby", 44), history("lobby", [42, 43]));
    assert.deepEqual(parts.delivered("lobby"), [42, 43, 44]);
    assert.equal(storage.getItem("chat:lobby"), "44");
  });

  test("reset: an event, the seq forgotten, held messages dropped, history reloads", async () => {
    const storage = new MemoryStorage({ "apigw-ws-seq:lobby": "3" });
    const parts = await channelClient({ seqStorage: storage });
    let reloaded = null;
    parts.client.addEventListener("reset", (event) => {
      reloaded = parts.client.history(event.detail.channel, 2);
    });
    parts.serverSends(live("lobby", 99));
    parts.serverSends({ type: "reset", channel: "lobby", last_seq: 100 });
    assert.deepEqual(parts.ofType("reset"), [{ type: "reset", channel: "lobby", lastSeq: 100 }]);
    assert.equal(storage.getItem("apigw-ws-seq:lobby"), null);
    assert.deepEqual(parts.lastRequest(), { channel: "lobby", limit: 2, action: "history", handler: "history" });
    parts.serverSends(live("lobby", 101), history("lobby", [99, 100]));
    assert.deepEqual(parts.delivered("lobby"), [99, 100, 101]);
    const answer = await reloaded;
    assert.deepEqual(answer.messages.map((message) => message.seq), [99, 100]);
    assert.equal(answer.lastSeq, 100);
  });

  test("history() resolves with the last messages; new ones also arrive as events", async () => {
    const parts = await channelClient();
    const answer = parts.client.history("lobby", 3);
    assert.deepEqual(parts.lastRequest(), { channel: "lobby", limit: 3, action: "history", handler: "history" });
    parts.serverSends(live("lobby", 11), history("lobby", [8, 9], 10), history("lobby", [10], 10));
    const { messages, lastSeq } = await answer;
    assert.deepEqual(messages.map((message) => message.seq), [8, 9, 10]);
    assert.equal(lastSeq, 10);
    assert.deepEqual(parts.delivered("lobby"), [8, 9, 10, 11]);
    assert.equal(parts.ofType("channelmessage")[0].sentAt, "2026-12-01T10:00:00Z");
  });

  test("history() and a resume of one channel are asked one after the other", async () => {
    // Both are answered by "history" messages that do not say which request they answer.
    const storage = new MemoryStorage({ "apigw-ws-seq:lobby": "5" });
    const parts = makeClient({ seqStorage: storage });
    recordChannelEvents(parts);
    const answer = parts.client.history("lobby", 8);
    parts.client.connect();
    await flush();
    parts.FakeSocket.last.accept();
    const socket = parts.FakeSocket.last;
    // The history request covers the resume: what it lacks shows as a gap afterwards.
    assert.deepEqual(socket.sent.map((text) => JSON.parse(text).handler), ["history"]);
    socket.receive(JSON.stringify(live("lobby", 9)));
    socket.receive(JSON.stringify(history("lobby", [1, 2, 3, 4, 5, 6, 7, 8])));
    assert.deepEqual((await answer).messages.map((message) => message.seq), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(parts.delivered("lobby"), [6, 7, 8, 9]);
    assert.equal(socket.sent.length, 1);
  });

  test("a history() asked while a resume is out waits for the resume's answer", async () => {
    const parts = await channelClient();
    parts.serverSends(live("lobby", 1));
    await parts.reconnect();
    const answer = parts.client.history("lobby", 3);
    assert.deepEqual(parts.requests().map((request) => request.handler), ["resume"]);
    parts.serverSends(history("lobby", [2, 3]));
    assert.deepEqual(parts.requests().map((request) => request.handler), ["resume", "history"]);
    parts.serverSends(history("lobby", [1, 2, 3]));
    assert.deepEqual((await answer).messages.map((message) => message.seq), [1, 2, 3]);
    assert.deepEqual(parts.delivered("lobby"), [1, 2, 3]);
  });

  test("history() of a subscribed channel waits for the subscription's answer", async () => {
    const parts = await channelClient();
    parts.client.subscribe("room-2");
    parts.client.history("room-2", 5);
    assert.deepEqual(parts.requests().map((request) => request.handler), ["subscribe"]);
    parts.serverSends({ type: "subscribed", channel: "room-2" });
    assert.equal(parts.lastRequest().handler, "history");
  });

  test("a refused history() rejects with the reason", async () => {
    const parts = await channelClient();
    const answer = parts.client.history("staff", 5);
    parts.serverSends({
      type: "refused",
      request: "history",
      channel: "staff",
      reason: "not_member",
      message: "Not in staff.",
    });
    await assert.rejects(answer, (error) => {
      assert.ok(error instanceof ChannelRefusedError);
      assert.equal(error.reason, "not_member");
      assert.equal(error.message, "Not in staff.");
      return true;
    });
  });

  test("a history() asked before a drop is asked again on the next connection", async () => {
    const parts = await channelClient();
    const answer = parts.client.history("lobby", 2);
    parts.serverSends(history("lobby", [1], 4)); // the rest is lost with the connection
    await parts.reconnect();
    assert.deepEqual(parts.lastRequest(), { channel: "lobby", limit: 2, action: "history", handler: "history" });
    parts.serverSends(history("lobby", [3, 4]));
    assert.deepEqual((await answer).messages.map((message) => message.seq), [3, 4]);
  });
});

// A server with one history channel: it numbers what it sends, answers resume and history
// like the package does, and loses the connection now and then.
function simulate(seed) {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return random;
}

describe("no duplicates, no gaps, in order", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`a channel through drops, reconnects and gaps (seed ${seed})`, async () => {
      const random = simulate(seed);
      const parts = await channelClient({ seqStorage: new MemoryStorage() });
      const kept = []; // the server's history
      const answered = new Set();
      let connected = true;
      const answerRequests = () => {
        const socket = parts.FakeSocket.last;
        socket.sent.forEach((text, index) => {
          if (answered.has(`${parts.FakeSocket.instances.length}:${index}`)) return;
          answered.add(`${parts.FakeSocket.instances.length}:${index}`);
          const request = JSON.parse(text);
          if (request.handler === "resume") {
            const after = request.channels.lobby;
            const missed = kept.filter((seq) => seq > after);
            // In chunks of up to 3, as a long answer is split.
            for (let start = 0; start < missed.length || start === 0; start += 3) {
              parts.serverSends(history("lobby", missed.slice(start, start + 3), kept.length));
              if (missed.length === 0) break;
            }
          }
        });
      };
      for (let step = 0; step < 300; step += 1) {
        const roll = random();
        if (roll < 0.6) {
          kept.push(kept.length + 1);
          const seq = kept.length;
          // A live message reaches an open connection, unless the network lost it.
          if (connected && random() > 0.1) parts.serverSends(live("lobby", seq));
        } else if (roll < 0.7 && connected) {
          parts.FakeSocket.last.drop();
          connected = false;
        } else if (roll < 0.8 && !connected) {
          await parts.clock.runNext();
          parts.FakeSocket.last.accept();
          connected = true;
        } else if (connected) {
          answerRequests();
        }
      }
      if (!connected) {
        await parts.clock.runNext();
        parts.FakeSocket.last.accept();
      }
      // A last message makes any gap at the end visible, then every request is answered.
      kept.push(kept.length + 1);
      parts.serverSends(live("lobby", kept.length));
      for (let round = 0; round < 5; round += 1) answerRequests();
      await flush();
      assert.deepEqual(parts.delivered("lobby"), kept);
    });
  }
});
