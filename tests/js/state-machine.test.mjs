// Random sequences of what the network, the server, time and the page can do, checked
// against the promises the client makes whatever happens: tokens are never reused,
// messages go out once and in order or are reported dropped, at most one connection is
// live (two while renewing), and a closed client leaves nothing running.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ClosedError,
  QueueFullError,
} from "../../src/django_aws_api_gateway_websockets/static/django_aws_api_gateway_websockets/websocket-client.js";
import { flush, makeClient } from "./helpers.mjs";

// A small seeded generator, so a failure names a sequence that can be replayed.
function mulberry32(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RUNS = 200;
const STEPS = 80;

async function run(seed) {
  const random = mulberry32(seed);
  const pick = (items) => items[Math.floor(random() * items.length)];
  const parts = makeClient({
    random,
    maxQueuedMessages: 5,
    heartbeatIntervalMs: 20000,
    rotateAfterMs: 60000,
    maxRetries: 6,
  });
  const { client, clock, FakeSocket, tokens } = parts;
  const delivered = []; // every chat message any socket carried, in order
  let accepted = 0; // sends that returned true or false
  let dropped = 0;
  let closeEvents = 0;
  let cycles = 0; // connect() calls that started a cycle
  client.addEventListener("close", (event) => {
    closeEvents += 1;
    dropped += event.detail.dropped;
  });
  const live = () => FakeSocket.instances.filter((s) => s.onclose && s.readyState !== 3);
  const log = [];

  const actions = {
    wait: async () => clock.advance(Math.floor(random() * 40000)),
    accept: async () => {
      const waiting = live().filter((s) => s.readyState === 0);
      if (waiting.length) pick(waiting).accept();
    },
    drop: async () => {
      const sockets = live();
      if (sockets.length) pick(sockets).drop(pick([1006, 1001, 1000]));
    },
    tokenTrouble: async () => {
      tokens.answer(
        pick([
          { status: 403, text: "Authentication required" },
          { status: 403, text: "Rate limit exceeded" },
          { status: 500, text: "" },
          new TypeError("offline"),
        ]),
      );
    },
    send: async () => {
      try {
        client.send("chat", { n: accepted + 1 });
        accepted += 1;
      } catch (error) {
        assert.ok(error instanceof QueueFullError || error instanceof ClosedError, error);
      }
    },
    receive: async () => {
      const sockets = live().filter((s) => s.readyState === 1);
      if (sockets.length) pick(sockets).receive('{"type": "message"}');
    },
    online: async () => parts.network.dispatchEvent(new Event("online")),
    close: async () => client.close(),
    connect: async () => {
      if (client.state === "closed") cycles += 1;
      client.connect();
    },
    reconnect: async () => {
      if (client.state === "closed") cycles += 1;
      client.reconnect();
    },
    switchChannel: async () => {
      if (client.state === "closed") cycles += 1;
      client.channel = pick(["lobby", "random", "staff"]);
      client.reconnect();
    },
  };
  const weighted = [
    ...Array(6).fill("wait"),
    ...Array(6).fill("accept"),
    ...Array(3).fill("drop"),
    ...Array(2).fill("tokenTrouble"),
    ...Array(5).fill("send"),
    "receive",
    "online",
    "close",
    "connect",
    "reconnect",
    "switchChannel",
  ];

  // Every message a socket carries goes into one log, to check order across sockets.
  const originalSend = FakeSocket.prototype.send;
  FakeSocket.prototype.send = function send(text) {
    originalSend.call(this, text);
    const message = JSON.parse(text);
    if (message.handler === "chat") delivered.push(message.n);
  };

  cycles += 1;
  client.connect();
  await flush();
  for (let step = 0; step < STEPS; step++) {
    const name = pick(weighted);
    log.push(name);
    await actions[name]();
    await flush();
    const where = `seed ${seed}, after ${log.join(" ")}`;

    const tokensUsed = FakeSocket.instances.map((s) => s.params.get("ws_token"));
    assert.equal(new Set(tokensUsed).size, tokensUsed.length, `token reused: ${where}`);
    assert.ok(["connecting", "open", "reconnecting", "closed"].includes(client.state), where);
    const sockets = live();
    if (client.state === "closed") {
      assert.equal(sockets.length, 0, `a closed client keeps a socket: ${where}`);
      assert.equal(clock.timers.size, 0, `a closed client keeps a timer: ${where}`);
      assert.equal(client.queuedMessages, 0, where);
    } else if (client.state === "open") {
      assert.ok(sockets.length >= 1 && sockets.length <= 2, where);
      assert.equal(sockets.filter((s) => s.readyState === 1).length, 1, where);
    } else {
      assert.ok(sockets.length <= 1, `two sockets while ${client.state}: ${where}`);
    }
    assert.ok(client.queuedMessages <= 5, where);
    for (let i = 1; i < delivered.length; i++) {
      assert.ok(delivered[i] > delivered[i - 1], `out of order or twice: ${where}`);
    }
    assert.equal(delivered.length + dropped + client.queuedMessages, accepted, where);
    assert.ok(closeEvents <= cycles, `more close events than cycles: ${where}`);
  }
  FakeSocket.prototype.send = originalSend;
}

test(`${RUNS} random sequences of ${STEPS} steps keep the client's promises`, async () => {
  for (let seed = 1; seed <= RUNS; seed++) await run(seed);
});
