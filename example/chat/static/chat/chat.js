// The room page: one ApiGatewayWebSocket per page, configured by the websocket_config
// template tag. Everything the server sends is rendered with textContent, never as HTML.

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

function addLine(className, ...parts) {
  const item = document.createElement("li");
  item.className = className;
  for (const [tag, text] of parts) {
    const part = document.createElement(tag);
    part.textContent = text;
    item.append(part);
  }
  messages.append(item);
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

const socket = new ApiGatewayWebSocket({ ...readPageConfig(), ...timing });
window.chatSocket = socket; // for the curious, in the browser console

socket.addEventListener("open", (event) => {
  setStatus("open", "Connected");
  showNotice("");
  socket.send("join");
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
  if (data.type === "message") {
    const time = new Date(data.sent_at).toLocaleTimeString();
    addLine("message", ["time", time], ["strong", data.user], ["span", data.text]);
  } else if (data.type === "presence") {
    online.replaceChildren(
      ...data.users.map((name) => {
        const item = document.createElement("li");
        item.textContent = name;
        return item;
      }),
    );
  } else if (data.type === "error") {
    addLine("system error", ["span", data.message]);
  }
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
