// The client's state machine, backoff, token flow, limits and events, driven through
// injected fakes (tests/js/helpers.mjs): no network and no real timers.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  ApiGatewayWebSocket,
  ClosedError,
  DEFAULTS,
  MAX_FRAME_BYTES,
  MAX_MESSAGE_BYTES,
  MessageTooLargeError,
  QueueFullError,
  backoffDelay,
  readCookie,
  readPageConfig,
  utf8Length,
} from "../../src/django_aws_api_gateway_websockets/static/django_aws_api_gateway_websockets/websocket-client.js";
import { flush, makeClient, openClient } from "./helpers.mjs";

describe("backoff", () => {
  test("full jitter: a random share of an exponential ceiling", () => {
    assert.equal(backoffDelay(0, 1000, 30000, () => 0), 0);
    assert.equal(backoffDelay(0, 1000, 30000, () => 0.5), 500);
    assert.equal(backoffDelay(1, 1000, 30000, () => 0.5), 1000);
    assert.equal(backoffDelay(3, 1000, 30000, () => 0.5), 4000);
    assert.ok(backoffDelay(3, 1000, 30000, () => 0.999999) < 8000);
  });

  test("the ceiling is capped, even for huge attempt numbers", () => {
    assert.equal(backoffDelay(5, 1000, 30000, () => 0.5), 15000);
    assert.equal(backoffDelay(6, 1000, 30000, () => 0.5), 15000);
    assert.equal(backoffDelay(5000, 1000, 30000, () => 0.5), 15000);
  });

  test("retries wait longer and longer, up to the cap", async () => {
    const { client, clock, FakeSocket, ofType } = await openClient({ random: () => 0.999 });
    FakeSocket.last.drop();
    for (let i = 0; i < 7; i++) {
      await clock.runNext();
      FakeSocket.last.drop(1006); // handshake fails, on a channel that worked before
    }
    const delays = ofType("reconnecting").map((event) => event.delayMs);
    assert.deepEqual(delays, [999, 1998, 3996, 7992, 15984, 29970, 29970, 29970]);
    assert.deepEqual(
      ofType("reconnecting").map((event) => event.attempt),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.equal(client.state, "reconnecting");
  });

  test("a connection that stayed up resets the backoff; a short-lived one does not", async () => {
    const { clock, FakeSocket, ofType } = await openClient({ random: () => 0.999 });
    FakeSocket.last.drop(); // 1st failure
    await clock.runNext();
    FakeSocket.last.accept();
    await clock.advance(100); // too short to count as stable
    FakeSocket.last.drop(); // 2nd
    await clock.runNext();
    FakeSocket.last.accept();
    await clock.advance(DEFAULTS.resetBackoffAfterMs);
    FakeSocket.last.drop(); // stable: starts over
    const delays = ofType("reconnecting").map((event) => event.delayMs);
    assert.deepEqual(delays, [999, 1998, 999]);
  });
});

describe("tokens", () => {
  test("connect POSTs for a token with the CSRF cookie, then opens the socket with it", async () => {
    const { client, tokens, FakeSocket, ofType } = makeClient({ channel: "room 1&x" });
    client.connect();
    assert.equal(client.state, "connecting");
    await flush();
    assert.equal(tokens.calls.length, 1);
    const { url, init } = tokens.calls[0];
    assert.equal(url, "/api/ws-token/");
    assert.equal(init.method, "POST");
    assert.equal(init.credentials, "same-origin");
    assert.equal(init.headers["X-CSRFToken"], "csrf-from-cookie");
    const socket = FakeSocket.last;
    assert.ok(socket.url.startsWith("wss://ws.example.com/production?"));
    assert.equal(socket.params.get("ws_token"), "token-1");
    assert.equal(socket.params.get("channel"), "room 1&x");
    assert.equal(ofType("open").length, 0);
    socket.accept();
    assert.equal(client.state, "open");
    assert.deepEqual(ofType("open"), [{ type: "open", rotated: false, flushed: 0 }]);
  });

  test("the CSRF cookie wins over the page's token, which covers an unreadable cookie", async () => {
    const withCookie = makeClient({ csrfToken: "from-page" });
    withCookie.client.connect();
    await flush();
    assert.equal(withCookie.tokens.calls[0].init.headers["X-CSRFToken"], "csrf-from-cookie");
    const noCookie = makeClient({ csrfToken: "from-page", getCookie: () => null });
    noCookie.client.connect();
    await flush();
    assert.equal(noCookie.tokens.calls[0].init.headers["X-CSRFToken"], "from-page");
    const neither = makeClient({ getCookie: () => null });
    neither.client.connect();
    await flush();
    assert.equal("X-CSRFToken" in neither.tokens.calls[0].init.headers, false);
  });

  test("a CSRF token function, extra params and a URL that has a query already", async () => {
    const { client, tokens, FakeSocket } = makeClient({
      url: "ws://127.0.0.1:8001/local?x=1",
      getCookie: () => null,
      csrfToken: () => "from-function",
      params: { lang: "en" },
      channel: "",
    });
    client.connect();
    await flush();
    assert.equal(tokens.calls[0].init.headers["X-CSRFToken"], "from-function");
    assert.ok(FakeSocket.last.url.startsWith("ws://127.0.0.1:8001/local?x=1&"));
    assert.equal(FakeSocket.last.params.get("lang"), "en");
    assert.equal(FakeSocket.last.params.has("channel"), false);
  });

  test("every reconnect uses a fresh token", async () => {
    const { clock, tokens, FakeSocket } = await openClient();
    for (let i = 0; i < 3; i++) {
      FakeSocket.last.drop();
      await clock.runNext();
      FakeSocket.last.accept();
    }
    assert.equal(tokens.calls.length, 4);
    const used = FakeSocket.instances.map((socket) => socket.params.get("ws_token"));
    assert.deepEqual(used, ["token-1", "token-2", "token-3", "token-4"]);
  });

  for (const [status, text] of [
    [403, "Authentication required"],
    [401, ""],
    [403, "CSRF verification failed. Request aborted."],
    [403, `<!DOCTYPE html><html><head><style>${"x".repeat(500)}</style></head><body>
      <h1>Forbidden (403)</h1><p>CSRF verification failed. Request aborted.</p></body></html>`],
  ]) {
    test(`token endpoint ${status} "${text.slice(0, 40)}" stops for good and says why`, async () => {
      const { client, clock, tokens, FakeSocket, ofType } = makeClient();
      tokens.answer({ status, text });
      client.connect();
      await flush();
      assert.equal(client.state, "closed");
      assert.equal(client.closeReason, "unauthenticated");
      const [close] = ofType("close");
      assert.equal(close.reason, "unauthenticated");
      assert.ok(close.message.includes(String(status)));
      if (text && !text.startsWith("<")) assert.ok(close.message.includes(text));
      if (text.startsWith("<")) {
        assert.equal(close.message, "Token endpoint answered 403: CSRF verification failed");
      }
      await clock.advance(3600000);
      assert.equal(tokens.calls.length, 1);
      assert.equal(FakeSocket.instances.length, 0);
      assert.equal(ofType("reconnecting").length, 0);
    });
  }

  test("a rate-limited token request is retried later", async () => {
    const { client, clock, tokens, FakeSocket, ofType } = makeClient();
    tokens.answer({ status: 403, text: "Rate limit exceeded" }, { status: 429, text: "" });
    client.connect();
    await flush();
    assert.equal(client.state, "reconnecting");
    assert.equal(ofType("reconnecting")[0].reason, "rate-limited");
    await clock.runNext();
    assert.equal(ofType("reconnecting")[1].reason, "rate-limited");
    await clock.runNext();
    FakeSocket.last.accept();
    assert.equal(client.state, "open");
    assert.equal(tokens.calls.length, 3);
  });

  for (const [label, answer] of [
    ["a network error", new TypeError("Failed to fetch")],
    ["a 502", { status: 502, text: "Bad Gateway" }],
    ["a body that is not JSON", { status: 200, text: "<html>" }],
    ["JSON without a token", { status: 200, body: { expires_in: 60 } }],
  ]) {
    test(`${label} from the token endpoint is retried`, async () => {
      const { client, clock, tokens, FakeSocket, ofType } = makeClient();
      tokens.answer(answer);
      client.connect();
      await flush();
      assert.equal(client.state, "reconnecting");
      assert.equal(ofType("reconnecting")[0].reason, "token-unavailable");
      assert.equal(FakeSocket.instances.length, 0);
      await clock.runNext();
      FakeSocket.last.accept();
      assert.equal(client.state, "open");
      assert.equal(tokens.calls.length, 2);
    });
  }
});

describe("refusals", () => {
  test("a first handshake that fails after a fresh token means refused: no retry", async () => {
    const { client, clock, tokens, FakeSocket, ofType } = makeClient();
    client.connect();
    await flush();
    FakeSocket.last.drop(1006);
    assert.equal(client.state, "closed");
    assert.equal(client.closeReason, "refused");
    assert.ok(ofType("close")[0].message.includes("refused"));
    await clock.advance(3600000);
    assert.equal(tokens.calls.length, 1);
  });

  test("a failed handshake on a channel that worked before is retried", async () => {
    const { client, clock, FakeSocket, ofType } = await openClient();
    FakeSocket.last.drop(1001, "Going away");
    assert.equal(ofType("reconnecting")[0].reason, "connection-lost");
    assert.ok(ofType("reconnecting")[0].message.includes("1001: Going away"));
    await clock.runNext();
    FakeSocket.last.drop(1006);
    assert.equal(client.state, "reconnecting");
    assert.equal(ofType("reconnecting")[1].reason, "handshake-failed");
  });

  test("switching to a channel that refuses the user says refused", async () => {
    const { client, FakeSocket, ofType } = await openClient();
    client.channel = "staff";
    client.reconnect();
    assert.equal(FakeSocket.instances[0].closedWith, 1000);
    await flush();
    assert.equal(FakeSocket.last.params.get("channel"), "staff");
    FakeSocket.last.drop(1006);
    assert.equal(client.closeReason, "refused");
    assert.equal(ofType("close").length, 1);
  });

  test("connect() after a refusal starts over", async () => {
    const { client, FakeSocket } = makeClient();
    client.connect();
    await flush();
    FakeSocket.last.drop(1006);
    client.connect();
    assert.equal(client.closeReason, null);
    await flush();
    FakeSocket.last.accept();
    assert.equal(client.state, "open");
  });

  test("back online, a waiting client retries at once", async () => {
    const { client, clock, tokens, network, FakeSocket } = await openClient({
      random: () => 0.999,
    });
    FakeSocket.last.drop();
    await clock.runNext();
    FakeSocket.last.drop(); // the network is down: waiting up to 2 s now
    assert.equal(client.state, "reconnecting");
    network.dispatchEvent(new Event("online"));
    await flush();
    assert.equal(client.state, "connecting");
    assert.equal(tokens.calls.length, 3);
    FakeSocket.last.accept();
    assert.equal(clock.timers.size, 2, "heartbeat and renewal only: the old retry is gone");
    network.dispatchEvent(new Event("online")); // while open: nothing to do
    assert.equal(tokens.calls.length, 3);
    client.close();
    network.dispatchEvent(new Event("online")); // closed for good: ignored
    await flush();
    assert.equal(tokens.calls.length, 3);
    assert.equal(client.state, "closed");
  });

  test("maxRetries failures in a row give up", async () => {
    const { client, clock, tokens, ofType } = makeClient({ maxRetries: 2 });
    tokens.answer(new TypeError("offline"), new TypeError("offline"), new TypeError("offline"));
    client.connect();
    await flush();
    await clock.runNext();
    await clock.runNext();
    assert.equal(client.closeReason, "gave-up");
    assert.equal(ofType("reconnecting").length, 2);
    assert.ok(ofType("close")[0].message.includes("offline"));
    assert.equal(clock.timers.size, 0);
  });

  test("a URL the WebSocket constructor rejects stops the client and says why", async () => {
    const { client, ofType } = makeClient({
      WebSocket: class {
        constructor() {
          throw new SyntaxError("The URL's scheme must be either 'ws' or 'wss'.");
        }
      },
    });
    client.connect();
    await flush();
    assert.equal(client.closeReason, "gave-up");
    assert.ok(ofType("close")[0].message.includes("scheme"));
  });

  test("a handshake with no answer times out and is retried", async () => {
    const { client, clock, FakeSocket, ofType } = makeClient({ connectTimeoutMs: 10000 });
    client.connect();
    await flush();
    const hanging = FakeSocket.last;
    await clock.advance(10000);
    assert.equal(hanging.closedWith, 1000);
    assert.equal(ofType("reconnecting")[0].reason, "timeout");
    hanging.accept(); // too late: ignored
    assert.equal(client.state, "reconnecting");
    await clock.runNext();
    FakeSocket.last.accept();
    assert.equal(client.state, "open");
  });
});

describe("sending", () => {
  test("send() sets handler and action, and a route can be named", async () => {
    const { client, FakeSocket } = await openClient();
    assert.equal(client.send("chat", { text: "hi", action: "x", handler: "y" }), true);
    client.send("chat", { text: "routed" }, { route: "messages" });
    client.send("join");
    assert.deepEqual(FakeSocket.last.sent.map((text) => JSON.parse(text)), [
      { text: "hi", action: "chat", handler: "chat" },
      { text: "routed", action: "messages", handler: "chat" },
      { action: "join", handler: "join" },
    ]);
    assert.throws(() => client.send(""), TypeError);
    assert.throws(() => client.send({ handler: "chat" }), TypeError);
  });

  test("messages sent while reconnecting are queued, bounded, then sent in order", async () => {
    const { client, clock, FakeSocket, ofType } = await openClient({ maxQueuedMessages: 2 });
    FakeSocket.last.drop();
    assert.equal(client.send("chat", { n: 1 }), false);
    assert.equal(client.send("chat", { n: 2 }), false);
    assert.throws(() => client.send("chat", { n: 3 }), QueueFullError);
    assert.equal(client.queuedMessages, 2);
    await clock.runNext();
    FakeSocket.last.accept();
    assert.deepEqual(FakeSocket.last.sent.map((text) => JSON.parse(text).n), [1, 2]);
    assert.equal(client.queuedMessages, 0);
    assert.equal(ofType("open").at(-1).flushed, 2);
  });

  test("messages sent before the first open wait for it", async () => {
    const { client, FakeSocket } = makeClient();
    client.connect();
    client.send("join");
    await flush();
    assert.deepEqual(FakeSocket.last.sent, []);
    FakeSocket.last.accept();
    assert.equal(JSON.parse(FakeSocket.last.sent[0]).handler, "join");
  });

  test("over 128 KB of UTF-8 is refused before sending; the limit itself passes", async () => {
    const { client, FakeSocket } = await openClient({ maxFrameBytes: 0 });
    const envelope = utf8Length(JSON.stringify({ text: "", action: "c", handler: "c" }));
    const fits = "a".repeat(MAX_MESSAGE_BYTES - envelope);
    assert.equal(client.send("c", { text: fits }), true);
    assert.equal(utf8Length(FakeSocket.last.sent[0]), MAX_MESSAGE_BYTES);
    // 3 bytes per character in UTF-8: far fewer characters than bytes.
    const euros = "€".repeat(Math.ceil(MAX_MESSAGE_BYTES / 3));
    assert.ok(euros.length < MAX_MESSAGE_BYTES);
    const error = (() => {
      try {
        client.send("c", { text: euros });
      } catch (caught) {
        return caught;
      }
    })();
    assert.ok(error instanceof MessageTooLargeError);
    assert.ok(error instanceof RangeError);
    assert.equal(error.limit, MAX_MESSAGE_BYTES);
    assert.ok(error.size > MAX_MESSAGE_BYTES);
    assert.equal(FakeSocket.last.sent.length, 1);
  });

  test("by default a message must fit one 32 KB frame, as browsers never split one", async () => {
    const { client, FakeSocket } = await openClient();
    const envelope = utf8Length(JSON.stringify({ text: "", action: "c", handler: "c" }));
    assert.equal(client.send("c", { text: "a".repeat(MAX_FRAME_BYTES - envelope) }), true);
    assert.throws(
      () => client.send("c", { text: "a".repeat(MAX_FRAME_BYTES - envelope + 1) }),
      (error) => error instanceof MessageTooLargeError && error.limit === MAX_FRAME_BYTES &&
        /frame limit/.test(error.message),
    );
    assert.equal(FakeSocket.last.sent.length, 1);
  });

  test("the size limits are configurable", async () => {
    const { client } = await openClient({ maxMessageBytes: 1000, maxFrameBytes: 0 });
    assert.throws(() => client.send("c", { text: "a".repeat(1000) }), MessageTooLargeError);
  });

  test("close() stops everything: no timers, no sends, queued messages dropped", async () => {
    const { client, clock, tokens, FakeSocket, ofType } = await openClient();
    FakeSocket.last.drop();
    client.send("chat", { n: 1 });
    client.close();
    assert.equal(client.state, "closed");
    assert.deepEqual(ofType("close"), [
      { type: "close", reason: "client", message: "closed by the page", dropped: 1 },
    ]);
    assert.equal(clock.timers.size, 0);
    assert.throws(() => client.send("chat"), ClosedError);
    await clock.advance(3600000);
    assert.equal(tokens.calls.length, 1);
    client.close();
    assert.equal(ofType("close").length, 1);
  });

  test("close() while open closes the socket with 1000", async () => {
    const { client, FakeSocket } = await openClient();
    client.close();
    assert.equal(FakeSocket.last.closedWith, 1000);
  });

  test("a handshake under way is abandoned by close() and by reconnect()", async () => {
    const { client, FakeSocket, ofType } = makeClient();
    client.connect();
    await flush();
    const first = FakeSocket.last;
    client.reconnect();
    assert.equal(first.closedWith, 1000);
    await flush();
    const second = FakeSocket.last;
    client.close();
    assert.equal(second.closedWith, 1000);
    first.accept(); // too late: nothing happens
    second.accept();
    assert.equal(client.state, "closed");
    assert.equal(ofType("open").length, 0);
  });

  test("a token arriving after close() opens nothing", async () => {
    const { client, FakeSocket } = makeClient();
    client.connect();
    client.close();
    await flush();
    assert.equal(FakeSocket.instances.length, 0);
    assert.equal(client.state, "closed");
  });
});

describe("receiving", () => {
  test("JSON messages are parsed; other text is passed as is", async () => {
    const { FakeSocket, ofType } = await openClient();
    FakeSocket.last.receive('{"type": "message", "text": "hi"}');
    FakeSocket.last.receive("plain words");
    assert.deepEqual(
      ofType("message").map((event) => event.data),
      [{ type: "message", text: "hi" }, "plain words"],
    );
    assert.equal(ofType("message")[1].raw, "plain words");
  });
});

describe("keeping the connection", () => {
  test("a heartbeat goes out after the interval without other messages", async () => {
    const { client, clock, FakeSocket } = await openClient();
    const socket = FakeSocket.last;
    await clock.advance(DEFAULTS.heartbeatIntervalMs - 1);
    assert.deepEqual(socket.sent, []);
    await clock.advance(1);
    assert.deepEqual(socket.sent, ['{"action":"heartbeat"}']);
    await clock.advance(DEFAULTS.heartbeatIntervalMs / 2);
    client.send("chat", { text: "keeps it alive too" });
    await clock.advance(DEFAULTS.heartbeatIntervalMs / 2);
    assert.equal(socket.sent.length, 2, "no heartbeat right after a message");
    await clock.advance(DEFAULTS.heartbeatIntervalMs / 2);
    assert.equal(socket.sent.length, 3);
    assert.ok(DEFAULTS.heartbeatIntervalMs < 10 * 60 * 1000);
  });

  test("the heartbeat is configurable and can be turned off", async () => {
    const custom = await openClient({ heartbeatIntervalMs: 1000, heartbeatMessage: { action: "ping" } });
    await custom.clock.advance(3000);
    assert.deepEqual(custom.FakeSocket.last.sent, Array(3).fill('{"action":"ping"}'));
    const off = await openClient({ heartbeatIntervalMs: 0, rotateAfterMs: 0 });
    await off.clock.advance(3 * 3600000);
    assert.deepEqual(off.FakeSocket.last.sent, []);
    assert.equal(off.clock.timers.size, 0);
  });

  test("before the 2-hour cap a new connection replaces the old one", async () => {
    const { client, clock, tokens, FakeSocket, ofType } = await openClient({ heartbeatIntervalMs: 0 });
    const old = FakeSocket.last;
    await clock.advance(DEFAULTS.rotateAfterMs);
    assert.ok(DEFAULTS.rotateAfterMs < 2 * 3600000);
    assert.equal(tokens.calls.length, 2);
    const replacement = FakeSocket.last;
    assert.notEqual(replacement, old);
    assert.equal(replacement.params.get("ws_token"), "token-2");
    assert.equal(client.state, "open");
    client.send("chat", { text: "still on the old one" });
    assert.equal(old.sent.length, 1);
    old.receive('"late message"');
    replacement.accept();
    assert.equal(old.closedWith, 1000);
    client.send("chat", { text: "on the new one" });
    assert.equal(replacement.sent.length, 1);
    assert.deepEqual(ofType("open").map((event) => event.rotated), [false, true]);
    assert.equal(ofType("message")[0].data, "late message");
    assert.equal(ofType("reconnecting").length, 0);
    old.drop(1000); // the old socket's close is not a lost connection
    assert.equal(client.state, "open");
    replacement.drop(1001);
    assert.equal(ofType("reconnecting").length, 1);
  });

  test("a failed renewal keeps the old connection and tries again later", async () => {
    const { client, clock, tokens, FakeSocket } = await openClient({ heartbeatIntervalMs: 0 });
    const old = FakeSocket.last;
    await clock.advance(DEFAULTS.rotateAfterMs);
    FakeSocket.last.drop(1006); // the replacement's handshake fails
    assert.equal(client.state, "open");
    assert.equal(old.closedWith, null);
    await clock.advance(DEFAULTS.maxDelayMs);
    assert.equal(tokens.calls.length, 3);
    FakeSocket.last.accept();
    assert.equal(old.closedWith, 1000);
  });

  test("losing the old connection during a renewal falls back to reconnecting", async () => {
    const { client, clock, FakeSocket, ofType } = await openClient({ heartbeatIntervalMs: 0 });
    const old = FakeSocket.last;
    await clock.advance(DEFAULTS.rotateAfterMs);
    const replacement = FakeSocket.last;
    old.drop(1001);
    assert.equal(replacement.closedWith, 1000);
    assert.equal(client.state, "reconnecting");
    replacement.accept(); // stale: ignored
    assert.equal(client.state, "reconnecting");
    await clock.runNext();
    FakeSocket.last.accept();
    assert.equal(client.state, "open");
    assert.equal(ofType("open").length, 2);
  });
});

describe("page helpers", () => {
  test("readCookie finds a cookie among others and decodes it", () => {
    assert.equal(readCookie("a=1; csrftoken=abc%3D; b=2", "csrftoken"), "abc=");
    assert.equal(readCookie("xcsrftoken=1", "csrftoken"), null);
    assert.equal(readCookie("", "csrftoken"), null);
  });

  test("readPageConfig reads the template tag's JSON", () => {
    const doc = {
      getElementById: (id) =>
        id === "websocket-config" ? { textContent: '{"url": "ws://x", "channel": "lobby"}' } : null,
    };
    assert.deepEqual(readPageConfig("websocket-config", doc), { url: "ws://x", channel: "lobby" });
    assert.deepEqual(readPageConfig("missing", doc), {});
  });

  test("url and tokenUrl are required", () => {
    assert.throws(() => new ApiGatewayWebSocket({ tokenUrl: "/t" }), /url/);
    assert.throws(() => new ApiGatewayWebSocket({ url: "ws://x" }), /tokenUrl/);
  });
});
