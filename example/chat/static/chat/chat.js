// The room page: one ApiGatewayWebSocket per page, configured by the websocket_config
// template tag. Everything the server sends is rendered with textContent, never as HTML.
//
// The room is the connection's primary channel; the other rooms the user may join are
// subscriptions, for their unread counts. Rooms keep history (the page shows the last
// messages after a reload, and what was said while it was closed) and presence (the
// Online list). The client numbers nothing itself: it hands over each room's messages in
// sequence order, once each, across reconnects.

import {
  ApiGatewayWebSocket,
  MessageTooLargeError,
  QueueFullError,
  readPageConfig,
} from "../django_aws_api_gateway_websockets/websocket-client.js";

const status = document.getElementById("status");
const notice = document.getElementById("notice");
const messages = document.getElementById("messages");
const online = document.getElementById("online");
const composer = document.getElementById("composer");
const input = document.getElementById("text");

/** Messages a page shows when it opens. */
const HISTORY_SHOWN = 50;

const CLOSE_NOTICES = {
  refused:
    "You may not join this room: the server refused the connection. " +
    "Ask for access, or pick another room.",
  unauthenticated: "Your login has ended. Log in again to keep chatting.",
  "gave-up": "Could not reach the server. Reload the page to try again.",
  client: "Disconnected.",
};

// What to tell the user for each reason the token view gives before a connect.
const REFUSAL_NOTICES = {
  forbidden_channel: "You may not join this room. Ask for access, or pick another room.",
  invalid_channel: "This room's name is not valid. Pick a room from the list.",
  bad_origin:
    "This page's address may not connect to the chat server. " +
    "The site's allowed origins need this address.",
  not_authenticated: "Your login has ended. Log in again to keep chatting.",
  rate_limited: "Too many connection attempts from here.",
};

function setStatus(state, text) {
  status.className = `status ${state}`;
  status.textContent = text;
  status.dataset.state = state;
}

function showNotice(text) {
  notice.textContent = text;
  notice.hidden = !text;
}

function line(className, ...parts) {
  const item = document.createElement("li");
  item.className = className;
  for (const [tag, text] of parts) {
    const part = document.createElement(tag);
    part.textContent = text;
    item.append(part);
  }
  return item;
}

function addLine(className, ...parts) {
  messages.append(line(className, ...parts));
  messages.scrollTop = messages.scrollHeight;
}

// Timing options from the query string, to watch heartbeats and renewals against a
// gateway started with short limits: ?heartbeatIntervalMs=2000&rotateAfterMs=5000
const TIMING_OPTIONS = ["heartbeatIntervalMs", "rotateAfterMs", "initialDelayMs", "maxDelayMs"];
const timing = Object.fromEntries(
  [...new URLSearchParams(window.location.search)]
    .filter(([name, value]) => TIMING_OPTIONS.includes(name) && /^\d+$/.test(value))
    .map(([name, value]) => [name, Number(value)]),
);

const config = readPageConfig();
const room = config.channel;
const followed = JSON.parse(document.getElementById("followed-rooms").textContent);

// The last message of each room the user has seen on its page, kept across visits:
// what the unread counts and the "new since your last visit" line count from.
const READ_KEY = "chat-read:";
const readSeq = (channel) => Number(localStorage.getItem(READ_KEY + channel)) || 0;
const readAtOpening = readSeq(room);

const socket = new ApiGatewayWebSocket({
  ...config,
  ...timing,
  // The last seq of each room survives the tab: a reopened page resumes from it.
  seqStorage: window.localStorage,
  seqStorageKey: "chat-seq:",
});
window.chatSocket = socket; // for the curious, in the browser console

// -- the room's messages, in sequence order ------------------------------------------

function showMessage({ seq, data, replayed }) {
  if (seq !== null && messages.querySelector(`li[data-seq="${seq}"]`)) return;
  const time = new Date(data.sent_at).toLocaleTimeString();
  const item = line("message", ["time", time], ["strong", data.user], ["span", data.text]);
  if (seq !== null) {
    item.dataset.seq = String(seq);
    if (replayed && readAtOpening && seq > readAtOpening) newSinceLastVisit();
    localStorage.setItem(READ_KEY + room, String(Math.max(seq, readSeq(room))));
  }
  insertInOrder(item, seq ?? Infinity);
}

// The line above what was said while the user was away.
function newSinceLastVisit() {
  if (messages.querySelector(".divider")) return;
  const divider = line("divider", ["span", "New since your last visit"]);
  divider.dataset.testid = "new-since";
  insertInOrder(divider, readAtOpening + 0.5);
}

function insertInOrder(item, position) {
  item.dataset.position = String(position);
  const after = [...messages.children].find(
    (other) => other.dataset.position !== undefined && Number(other.dataset.position) > position,
  );
  messages.insertBefore(item, after || null);
  messages.scrollTop = messages.scrollHeight;
}

// -- the other rooms' unread counts -----------------------------------------------------

const latest = new Map(); // room -> the last seq known

function showUnread(channel, seq) {
  if (seq === null || seq === undefined) return;
  latest.set(channel, Math.max(seq, latest.get(channel) || 0));
  const badge = document.querySelector(`[data-testid="unread-${CSS.escape(channel)}"]`);
  if (!badge) return;
  const unread = Math.max(0, latest.get(channel) - readSeq(channel));
  badge.textContent = String(unread);
  badge.dataset.count = String(unread);
  badge.hidden = unread === 0;
}

// -- presence: the Online list ----------------------------------------------------------

function showOnline(members) {
  const names = [...new Set([...members.values()].map((data) => data.name || "?"))].sort();
  online.replaceChildren(
    ...names.map((name) => {
      const item = document.createElement("li");
      item.textContent = name;
      return item;
    }),
  );
}

for (const type of ["presence", "member_added", "member_removed"]) {
  socket.addEventListener(type, (event) => {
    if (event.detail.channel === room) showOnline(event.detail.members);
  });
}

// -- wiring -----------------------------------------------------------------------------

socket.addEventListener("channelmessage", (event) => {
  const { channel, seq } = event.detail;
  if (channel === room) {
    showMessage(event.detail);
  } else {
    showUnread(channel, seq);
  }
});

socket.addEventListener("subscribed", (event) => {
  // The other room's last seq, for its unread count.
  socket
    .history(event.detail.channel, 1)
    .then((answer) => showUnread(answer.channel, answer.lastSeq))
    .catch(() => {}); // a refusal is shown by "channelrefused"
});

// The room's last messages. Those newer than the last seq this browser saw also come
// as "channelmessage" events; the answer has them all (the page shows each seq once).
function loadRoom() {
  socket
    .history(room, HISTORY_SHOWN)
    .then((answer) => {
      for (const { seq, data } of answer.messages) showMessage({ seq, data, replayed: true });
    })
    .catch(() => {}); // a refusal is shown by "channelrefused"
}

socket.addEventListener("reset", (event) => {
  // What the page knew is older than the history holds: show the history afresh.
  if (event.detail.channel === room) {
    messages.replaceChildren();
    loadRoom();
  } else {
    socket.history(event.detail.channel, 1).catch(() => {});
  }
});

socket.addEventListener("channelrefused", (event) => {
  const { request, channel, reason, message } = event.detail;
  showNotice(`The server refused to ${request} "${channel}": ${message} (${reason})`);
});

socket.addEventListener("open", (event) => {
  setStatus("open", "Connected");
  showNotice("");
  if (event.detail.rotated) addLine("system", ["span", "Connection renewed."]);
});

socket.addEventListener("reconnecting", (event) => {
  const { attempt, delayMs, refusal } = event.detail;
  const seconds = (delayMs / 1000).toFixed(1);
  setStatus("reconnecting", `Reconnecting in ${seconds} s (attempt ${attempt})…`);
  if (refusal) showNotice(`${REFUSAL_NOTICES[refusal] || ""} Trying again in ${seconds} s.`.trim());
});

socket.addEventListener("close", (event) => {
  const { reason, refusal, message } = event.detail;
  setStatus("closed", "Not connected");
  showNotice(REFUSAL_NOTICES[refusal] || CLOSE_NOTICES[reason] || message);
  composer.querySelector("button").disabled = true;
});

socket.addEventListener("message", (event) => {
  const data = event.detail.data;
  if (data.type === "error") addLine("system error", ["span", data.message]);
});

composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  try {
    const sentNow = socket.send("chat", { text });
    if (!sentNow) addLine("system", ["span", "Queued until the connection is back."]);
    input.value = "";
  } catch (error) {
    if (error instanceof MessageTooLargeError || error instanceof QueueFullError) {
      addLine("system error", ["span", error.message]);
    } else {
      throw error;
    }
  }
});

// Asked once the connection opens (and presence again after every reconnect): the
// room's last messages, who is here, and the other rooms.
loadRoom();
socket.presence(room);
for (const { channel } of followed) socket.subscribe(channel);
