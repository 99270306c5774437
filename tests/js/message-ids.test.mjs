// Background sends with message_id=True are delivered at least once: the client drops a
// second copy of a message id it has already dispatched.

import assert from "node:assert/strict";
import { test } from "node:test";

import { openClient } from "./helpers.mjs";

test("a message id seen before is dropped; messages without one are all kept", async () => {
  const { FakeSocket, ofType } = await openClient();
  FakeSocket.last.receive('{"type": "news", "message_id": "a1"}');
  FakeSocket.last.receive('{"type": "news", "message_id": "a1"}');
  FakeSocket.last.receive('{"type": "news", "message_id": "b2"}');
  FakeSocket.last.receive('{"type": "news"}');
  FakeSocket.last.receive('{"type": "news"}');
  FakeSocket.last.receive('"message_id"');
  assert.deepEqual(
    ofType("message").map((event) => event.data),
    [
      { type: "news", message_id: "a1" },
      { type: "news", message_id: "b2" },
      { type: "news" },
      { type: "news" },
      "message_id",
    ],
  );
});

test("duplicates are caught across a reconnect, within the remembered window", async () => {
  const { FakeSocket, clock, ofType } = await openClient({ rememberMessageIds: 2 });
  FakeSocket.last.receive('{"message_id": "a"}');
  FakeSocket.last.drop();
  await clock.runNext();
  FakeSocket.last.accept();
  FakeSocket.last.receive('{"message_id": "a"}'); // same id on the new connection
  FakeSocket.last.receive('{"message_id": "b"}');
  FakeSocket.last.receive('{"message_id": "c"}'); // "a" is forgotten now
  FakeSocket.last.receive('{"message_id": "a"}');
  assert.deepEqual(
    ofType("message").map((event) => event.data.message_id),
    ["a", "b", "c", "a"],
  );
});

test("rememberMessageIds: 0 turns the check off", async () => {
  const { FakeSocket, ofType } = await openClient({ rememberMessageIds: 0 });
  FakeSocket.last.receive('{"message_id": "a"}');
  FakeSocket.last.receive('{"message_id": "a"}');
  assert.equal(ofType("message").length, 2);
});
