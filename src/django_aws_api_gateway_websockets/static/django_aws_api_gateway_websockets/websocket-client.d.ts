// Types of websocket-client.js, the browser client for Django views behind AWS API Gateway.

/** The largest message API Gateway accepts, in bytes of UTF-8 (128 KB). */
export declare const MAX_MESSAGE_BYTES: number;

/**
 * The largest frame API Gateway accepts (32 KB). Browsers send each message as a single
 * frame, so from a browser this is the effective message limit.
 */
export declare const MAX_FRAME_BYTES: number;

export interface ApiGatewayWebSocketOptions {
  /** The WebSocket URL: `wss://ws.example.com` on AWS, `ws://127.0.0.1:8001/local` locally. */
  url: string;
  /** Django's WebSocketTokenView URL; POSTed to before every connect and reconnect. */
  tokenUrl: string;
  /**
   * The channel to join (sent as `?channel=`, and as the `channel` form field of the
   * token request, so the token view can refuse up front); "" for the gateway's default.
   */
  channel?: string;
  /** Extra query parameters for the connect URL. */
  params?: Record<string, string>;
  /**
   * The CSRF token (or a function returning it), used when the CSRF cookie cannot be read
   * (CSRF_COOKIE_HTTPONLY, CSRF_USE_SESSIONS). The `websocket_config` tag provides it.
   */
  csrfToken?: string | null | (() => string | null);
  /** The name of Django's CSRF cookie (CSRF_COOKIE_NAME). Default "csrftoken". */
  csrfCookieName?: string;
  /** fetch() credentials mode of the token request. Default "same-origin". */
  credentials?: RequestCredentials;
  /** Base of the full-jitter exponential backoff, in ms. Default 1000. */
  initialDelayMs?: number;
  /** Cap of the backoff, in ms. Default 30000. */
  maxDelayMs?: number;
  /** Failed attempts in a row before giving up (close reason "gave-up"). Default Infinity. */
  maxRetries?: number;
  /** A connection that lived this long (ms) resets the backoff. Default 5000. */
  resetBackoffAfterMs?: number;
  /** A handshake that neither opens nor fails within this time (ms) is retried. Default 30000. */
  connectTimeoutMs?: number;
  /**
   * Send `heartbeatMessage` when nothing was sent for this long (ms), to stay under
   * API Gateway's 10-minute idle limit. 0 turns it off. Default 480000 (8 minutes).
   * Each heartbeat is a billed message and a request to your Django view.
   */
  heartbeatIntervalMs?: number;
  /** The heartbeat. Default `{action: "heartbeat"}`. */
  heartbeatMessage?: unknown;
  /**
   * Open a replacement connection after this long (ms), before API Gateway's 2-hour cap
   * ends the current one. 0 turns it off. Default 6900000 (115 minutes).
   */
  rotateAfterMs?: number;
  /** Messages kept while not connected; send() throws QueueFullError beyond. Default 100. */
  maxQueuedMessages?: number;
  /** Larger messages make send() throw MessageTooLargeError. Default 131072 (128 KB). */
  maxMessageBytes?: number;
  /**
   * Larger messages make send() throw MessageTooLargeError, because a browser sends a
   * message as one frame and API Gateway closes the connection (1009) on frames over
   * 32 KB. 0 turns it off, for runtimes that split messages into frames. Default 32768.
   */
  maxFrameBytes?: number;
  /**
   * How many message ids (the `message_id` key of a JSON object message) are remembered;
   * a message whose id was already dispatched is dropped, since a background send with
   * `message_id=True` is delivered at least once. 0 turns it off. Default 1000.
   */
  rememberMessageIds?: number;
  /**
   * The handler names of the channel requests, for a view that aliased them (`join =
   * WebSocketView.subscribe`). Default: each request's own name.
   */
  channelMessages?: Partial<ChannelMessageNames>;
  /**
   * Where the last sequence number of each channel is kept across page loads, so a
   * reopened page resumes where it stopped (`window.localStorage`). Default null: memory.
   */
  seqStorage?: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null;
  /** The prefix of the seqStorage keys (one key per channel). Default "apigw-ws-seq:". */
  seqStorageKey?: string;
  /** Connect from the constructor. Default true; otherwise call connect(). */
  autoConnect?: boolean;
  /** Injection points, for tests and non-browser runtimes. */
  WebSocket?: new (url: string) => WebSocket;
  fetch?: typeof fetch;
  setTimeout?: (callback: () => void, ms: number) => unknown;
  clearTimeout?: (id: unknown) => void;
  random?: () => number;
  now?: () => number;
  getCookie?: (name: string) => string | null;
  /** Where "online" events come from (a device back on the network retries at once). */
  onlineTarget?: EventTarget | null;
}

export declare const DEFAULTS: Readonly<Required<Omit<ApiGatewayWebSocketOptions,
  "url" | "tokenUrl" | "WebSocket" | "fetch" | "setTimeout" | "clearTimeout" | "random" | "now"
  | "getCookie" | "onlineTarget">>>;

/** The channel requests, each a handler of WebSocketView (CHANNEL_HANDLERS). */
export interface ChannelMessageNames {
  subscribe: string;
  unsubscribe: string;
  presence: string;
  resume: string;
  history: string;
}

/** The default handler names of the channel requests. */
export declare const CHANNEL_MESSAGES: Readonly<ChannelMessageNames>;

export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/**
 * Why the client stopped for good:
 * - "client": the page called close();
 * - "unauthenticated": the token endpoint answered 401/403 (not logged in, CSRF failure;
 *   refusal "not_authenticated");
 * - "refused": the token endpoint said the connect would be refused (refusal
 *   "forbidden_channel", "invalid_channel" or "bad_origin"), or the first handshake on
 *   this channel failed right after a fresh token was issued;
 * - "gave-up": maxRetries failed attempts in a row.
 */
export type CloseReason = "client" | "unauthenticated" | "refused" | "gave-up";

/**
 * The token view's machine-readable reason for refusing (`{"error", "reason"}`):
 * - "not_authenticated" (401/403): not logged in; the client stops;
 * - "forbidden_channel" (403): the user may not join the channel; the client stops;
 * - "invalid_channel" (400): not a valid channel name; the client stops;
 * - "bad_origin" (403): the page's origin may not connect; the client stops;
 * - "rate_limited" (429): too many attempts; retried after the server's Retry-After.
 */
export type RefusalCode =
  | "not_authenticated"
  | "forbidden_channel"
  | "invalid_channel"
  | "bad_origin"
  | "rate_limited";

/** What the client does about each refusal code: stop ("auth", "refused") or retry. */
export declare const REFUSALS: Readonly<Record<RefusalCode, "auth" | "refused" | "rate-limited">>;

export interface RefusedDetail {
  code: RefusalCode;
  /** The token endpoint's HTTP status. */
  status: number;
  /** The server's Retry-After in ms (rate_limited); 0 when it gave none. */
  retryAfterMs: number;
  message: string;
}

/** Why a reconnect was scheduled. */
export type RetryReason =
  | "connection-lost"
  | "handshake-failed"
  | "timeout"
  | "rate-limited"
  | "token-unavailable";

export interface OpenDetail {
  /** True when this connection replaced one nearing the 2-hour cap. */
  rotated: boolean;
  /** Queued messages sent on opening. */
  flushed: number;
}

export interface MessageDetail<T = unknown> {
  /** The message parsed as JSON, or the raw data when it is not JSON. */
  data: T;
  raw: string | ArrayBuffer | Blob;
}

export interface ReconnectingDetail {
  /** 1 for the first retry after a failure, growing while failures continue. */
  attempt: number;
  delayMs: number;
  reason: RetryReason;
  message: string;
  /** The token view's refusal code behind this retry ("rate_limited"), when there is one. */
  refusal?: RefusalCode;
}

export interface CloseDetail {
  reason: CloseReason;
  message: string;
  /** Queued messages that were never sent. */
  dropped: number;
  /** The token view's refusal code behind this close, when there is one. */
  refusal?: RefusalCode;
}

/** A message sent to a channel, delivered in sequence order, each seq once. */
export interface ChannelMessageDetail<T = unknown> {
  channel: string;
  /** The channel's sequence number; null for a channel that keeps no history. */
  seq: number | null;
  /** What the server sent (send_to_channel's `data`). */
  data: T;
  /** When it was sent (ISO 8601), for a message from history; null for a live one. */
  sentAt: string | null;
  /** True when it came from history (a resume or history()), false when live. */
  replayed: boolean;
}

export interface ChannelDetail {
  channel: string;
}

/** A channel member: the user's id and the public data the view chose for them. */
export interface ChannelMember<D = Record<string, unknown>> {
  user: string;
  data: D;
}

export interface PresenceDetail {
  channel: string;
  /** Everyone in the channel now: user id -> data. */
  members: Map<string, Record<string, unknown>>;
}

export interface MemberDetail extends PresenceDetail {
  /** Who joined (first connection) or left (last connection); `data` is {} on leaving. */
  member: ChannelMember;
}

export interface ResetDetail {
  channel: string;
  /**
   * The channel's last sequence number: what the client last saw is older than the
   * history holds, so the page reloads the channel's state (e.g. with history()).
   */
  lastSeq: number | null;
}

/**
 * Why the server refused a channel request:
 * - "invalid_channel": not a valid channel name;
 * - "forbidden": the user may not join the channel;
 * - "too_many_subscriptions": the connection has WEBSOCKETS["max_subscriptions"];
 * - "primary_channel": the connect channel cannot be unsubscribed;
 * - "not_member": the connection is not in the channel (presence, resume, history);
 * - "no_history": the channel keeps no history (resume, history).
 */
export type ChannelRefusalReason =
  | "invalid_channel"
  | "forbidden"
  | "too_many_subscriptions"
  | "primary_channel"
  | "not_member"
  | "no_history";

export interface ChannelRefusedDetail {
  /** The handler name of the refused request ("subscribe", ...). */
  request: string;
  channel: string;
  reason: ChannelRefusalReason | string;
  /** A text for people. */
  message: string;
}

/** One message of a channel's history. */
export interface HistoryEntry<T = unknown> {
  seq: number;
  data: T;
  /** ISO 8601. */
  sent_at: string;
}

export interface HistoryAnswer<T = unknown> {
  channel: string;
  /** Oldest first. */
  messages: HistoryEntry<T>[];
  /** The channel's last sequence number. */
  lastSeq: number;
}

/** history() rejects with this when the server refused the request. */
export declare class ChannelRefusedError extends Error {
  readonly request: string;
  readonly channel: string;
  readonly reason: ChannelRefusalReason | string;
}

export declare class ClientEvent<T = unknown> extends Event {
  constructor(type: string, detail: T);
  readonly detail: T;
}

interface ApiGatewayWebSocketEventMap {
  open: ClientEvent<OpenDetail>;
  message: ClientEvent<MessageDetail>;
  reconnecting: ClientEvent<ReconnectingDetail>;
  /** The token endpoint refused with a reason code; "reconnecting" or "close" follows. */
  refused: ClientEvent<RefusedDetail>;
  close: ClientEvent<CloseDetail>;
  /**
   * A message sent to a channel: in order, each seq once, history before live messages
   * after a reconnect. These messages do not fire "message".
   */
  channelmessage: ClientEvent<ChannelMessageDetail>;
  subscribed: ClientEvent<ChannelDetail>;
  unsubscribed: ClientEvent<ChannelDetail>;
  /** The answer to presence(): the whole members map (a long list added up first). */
  presence: ClientEvent<PresenceDetail>;
  member_added: ClientEvent<MemberDetail>;
  member_removed: ClientEvent<MemberDetail>;
  /** Resuming is impossible: the page reloads the channel's state. */
  reset: ClientEvent<ResetDetail>;
  /** The server refused a subscribe, unsubscribe, presence, resume or history request. */
  channelrefused: ClientEvent<ChannelRefusedDetail>;
}

export declare class ApiGatewayWebSocket extends EventTarget {
  constructor(options: ApiGatewayWebSocketOptions);
  readonly options: Required<ApiGatewayWebSocketOptions>;
  /** The channel of the next connect; change it, then call reconnect(), to switch. */
  channel: string;
  readonly state: ConnectionState;
  /** Set once the client stopped for good. */
  readonly closeReason: CloseReason | null;
  /** The token view's last refusal code; null again once a connection opens. */
  readonly refusal: RefusalCode | null;
  readonly queuedMessages: number;
  /** Open the connection (again) after it closed. */
  connect(): void;
  /** Drop the current connection and connect again at once with a fresh token. */
  reconnect(): void;
  /** Close for good. */
  close(code?: number, reason?: string): void;
  /**
   * Send `payload` with `handler` set to the Django handler name and `action` (API
   * Gateway's route key) to `options.route` or the handler name. True if sent now, false
   * if queued until the connection opens.
   * @throws MessageTooLargeError, QueueFullError, ClosedError
   */
  send(handler: string, payload?: Record<string, unknown>, options?: { route?: string }): boolean;
  /** The channels subscribe() added (not the primary one), in the order added. */
  readonly subscriptions: string[];
  /**
   * Subscribe to `channel` now (or when the connection opens) and again after every
   * reconnect, until unsubscribe() or a refusal. Answered by "subscribed" or
   * "channelrefused"; a known last seq is then resumed.
   */
  subscribe(channel: string): void;
  /** Stop following `channel`; answered by "unsubscribed" or "channelrefused". */
  unsubscribe(channel: string): void;
  /** Ask who is in `channel`, now and after every reconnect ("presence" event). */
  presence(channel: string): void;
  /** The members of `channel` known so far: user id -> data (empty if unknown). */
  members(channel: string): Map<string, Record<string, unknown>>;
  /**
   * The last `limit` (default 50) messages of `channel`, oldest first. Those newer than
   * the last seq seen also arrive as "channelmessage" events, before any live message.
   * @throws TypeError for an empty channel or a limit under 1
   */
  history<T = unknown>(channel: string, limit?: number): Promise<HistoryAnswer<T>>;
  /** The last sequence number delivered on `channel` (or kept in seqStorage), or null. */
  lastSeq(channel: string): number | null;
  addEventListener<K extends keyof ApiGatewayWebSocketEventMap>(
    type: K,
    listener: (event: ApiGatewayWebSocketEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof ApiGatewayWebSocketEventMap>(
    type: K,
    listener: (event: ApiGatewayWebSocketEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

export declare class MessageTooLargeError extends RangeError {
  readonly size: number;
  readonly limit: number;
}

export declare class QueueFullError extends Error {
  readonly limit: number;
}

export declare class ClosedError extends Error {
  readonly reason: CloseReason | "not connected";
}

/** Full-jitter exponential backoff: a random delay in [0, min(cap, base * 2^attempt)). */
export declare function backoffDelay(
  attempt: number,
  initialDelayMs: number,
  maxDelayMs: number,
  random?: () => number,
): number;

/** The UTF-8 size of a string, as API Gateway counts it. */
export declare function utf8Length(text: string): number;

/** A cookie's value from a `document.cookie`-style string, or null. */
export declare function readCookie(cookieString: string, name: string): string | null;

/** What the `websocket_config` template tag wrote into the page. */
export interface PageConfig {
  url?: string;
  tokenUrl?: string;
  channel?: string;
  csrfToken?: string;
}

/** Read the JSON the `websocket_config` template tag wrote into the page ({} if absent). */
export declare function readPageConfig(elementId?: string, doc?: Document): PageConfig;
