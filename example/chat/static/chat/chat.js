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
  const { attempt, delayMs } = event.detail;
  const seconds = (delayMs / 1000).toFixed(1);
  setStatus("reconnecting", `Reconnecting in ${seconds} s (attempt ${attempt})…`);
});

socket.addEventListener("close", (event) => {
  setStatus("closed", "Not connected");
  showNotice(CLOSE_NOTICES[event.detail.reason] || event.detail.message);
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
