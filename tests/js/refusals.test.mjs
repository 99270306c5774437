// The token view's machine-readable refusals: the client sends the channel it connects
// to with the token request, surfaces the reason code, stops for the refusals no retry
// can fix and waits out the server's Retry-After for a rate limit.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { REFUSALS } from "../../src/django_aws_api_gateway_websockets/static/django_aws_api_gateway_websockets/websocket-client.js";
import { flush, makeClient } from "./helpers.mjs";

const refusal = (status, reason, extra = {}) => ({
  status,
  body: { error: `human text for ${reason}`, reason, ...extra.body },
  headers: extra.headers,
});

describe("token requests", () => {
  test("the channel goes with the token request as a form field", async () => {
    const { client, tokens } = makeClient({ channel: "room-7" });
    client.connect();
    await flush();
    const { init } = tokens.calls[0];
    assert.equal(init.method, "POST");
    assert.equal(init.headers["Content-Type"], "application/x-www-form-urlencoded");
    assert.equal(new URLSearchParams(init.body).get("channel"), "room-7");
    assert.equal(init.headers["X-CSRFToken"], "csrf-from-cookie");
  });

  test("a switched channel is the one asked about on reconnect", async () => {
    const { client, tokens } = makeClient({ channel: "a" });
    client.connect();
    await flush();
    client.channel = "b";
    client.reconnect();
    await flush();
    assert.equal(new URLSearchParams(tokens.calls[1].init.body).get("channel"), "b");
  });

  test("the default channel sends no body", async () => {
    const { client, tokens } = makeClient({ channel: "" });
    client.connect();
    await flush();
    assert.equal(tokens.calls[0].init.body, undefined);
    assert.equal(tokens.calls[0].init.headers["Content-Type"], undefined);
  });
});

describe("refusal reasons", () => {
  for (const [status, code, closeReason] of [
    [403, "forbidden_channel", "refused"],
    [400, "invalid_channel", "refused"],
    [403, "bad_origin", "refused"],
    [401, "not_authenticated", "unauthenticated"],
    [403, "not_authenticated", "unauthenticated"],
  ]) {
    test(`${status} ${code}: a "refused" event with the code, then stop for good`, async () => {
      const { client, clock, tokens, FakeSocket, ofType } = makeClient();
      tokens.answer(refusal(status, code));
      client.connect();
      await flush();
      const [refused] = ofType("refused");
      assert.equal(refused.code, code);
      assert.equal(refused.status, status);
      assert.equal(refused.message, `Token endpoint answered ${status}: human text for ${code}`);
      assert.equal(client.state, "closed");
      assert.equal(client.closeReason, closeReason);
      assert.equal(client.refusal, code);
      const [close] = ofType("close");
      assert.deepEqual([close.reason, close.refusal], [closeReason, code]);
      await clock.advance(3600000);
      assert.equal(tokens.calls.length, 1);
      assert.equal(FakeSocket.instances.length, 0);
      assert.equal(ofType("reconnecting").length, 0);
    });
  }

  test("rate_limited waits the body's retry_after even when the backoff is shorter", async () => {
    const { client, clock, tokens, FakeSocket, ofType } = makeClient({ initialDelayMs: 100 });
    tokens.answer(refusal(429, "rate_limited", { body: { retry_after: 42 } }));
    client.connect();
    await flush();
    const [refused] = ofType("refused");
    assert.deepEqual([refused.code, refused.retryAfterMs], ["rate_limited", 42000]);
    const [waiting] = ofType("reconnecting");
    assert.deepEqual([waiting.reason, waiting.delayMs, waiting.refusal], ["rate-limited", 42000, "rate_limited"]);
    await clock.advance(41999);
    assert.equal(tokens.calls.length, 1);
    await clock.advance(1);
    assert.equal(tokens.calls.length, 2);
    FakeSocket.last.accept();
    assert.equal(client.state, "open");
    assert.equal(client.refusal, null);
  });

  test("rate_limited without retry_after in the body uses the Retry-After header", async () => {
    const { client, tokens, ofType } = makeClient({ initialDelayMs: 100 });
    tokens.answer(refusal(429, "rate_limited", { headers: { "Retry-After": "7" } }));
    client.connect();
    await flush();
    assert.equal(ofType("reconnecting")[0].delayMs, 7000);
  });

  test("a plain 429 from an older token view still honours Retry-After", async () => {
    const { client, tokens, ofType } = makeClient({ initialDelayMs: 100 });
    tokens.answer({ status: 429, text: "Rate limit exceeded", headers: { "Retry-After": "3" } });
    client.connect();
    await flush();
    assert.deepEqual(ofType("refused"), []);
    const [waiting] = ofType("reconnecting");
    assert.deepEqual([waiting.reason, waiting.delayMs, waiting.refusal], ["rate-limited", 3000, undefined]);
  });

  test("an unknown reason code falls back to the status", async () => {
    const { client, tokens, ofType } = makeClient();
    tokens.answer(refusal(503, "maintenance"));
    client.connect();
    await flush();
    assert.deepEqual(ofType("refused"), []);
    assert.equal(ofType("reconnecting")[0].reason, "token-unavailable");
  });

  test("a listener may close the client on a refusal", async () => {
    const { client, tokens, ofType } = makeClient();
    client.addEventListener("refused", () => client.close());
    tokens.answer(refusal(429, "rate_limited", { body: { retry_after: 5 } }));
    client.connect();
    await flush();
    assert.equal(client.closeReason, "client");
    assert.equal(ofType("reconnecting").length, 0);
  });

  test("every code of the contract has a decision", () => {
    assert.deepEqual(Object.keys(REFUSALS).sort(), [
      "bad_origin",
      "forbidden_channel",
      "invalid_channel",
      "not_authenticated",
      "rate_limited",
    ]);
  });
});
