/**
 * The admin HTTP API, described once: every route's path, request schema and response schema. The server
 * validates each body with these rules before a handler sees it (server/admin/AdminApi.ts), the handlers'
 * types come from them (`AdminRequest<R>`, `AdminResponse<R>`), and docs/openapi.json is generated from
 * them (server/admin/openapi.ts; a test checks the committed file).
 *
 * Every route is `POST /admin/api/<name>` with a JSON body (`{}` when it takes nothing): one shape to
 * sign and to validate, whatever the call. Requests are signed with the app's `adminSecret`
 * (docs/admin.md). Server-only, like bizSchema.ts: the shim never bundles it.
 */
import { MAX_CUSTOM_MSG_BYTES, MAX_ID_BYTES } from './constants';
import { described as d, s, type Infer, type Rule } from './schema';

/** Where the routes live: `POST ${ADMIN_API_PREFIX}<name>`. */
export const ADMIN_API_PREFIX = '/admin/api/';
/** Items one list answer carries at most (`limit`). */
export const ADMIN_MAX_PAGE = 1000;
/** Items one list answer carries by default. */
export const ADMIN_DEFAULT_PAGE = 100;
/** Users one custom command may name. */
export const ADMIN_MAX_RECIPIENTS = 1000;
/** A room message's content, bytes (as im_chat). */
export const ADMIN_MAX_MESSAGE_BYTES = 8192;

const id = (what: string, o: { nonEmpty?: boolean } = { nonEmpty: true }) => d(s.str(MAX_ID_BYTES, o), what);
const offset = d(s.int(0, 10_000_000).opt(), 'Items to skip (default 0)');
const limit = d(s.int(1, ADMIN_MAX_PAGE).opt(), `Items at most (default ${ADMIN_DEFAULT_PAGE})`);
const total = d(s.int(0, Number.MAX_SAFE_INTEGER), 'How many there are in all');
const count = (what: string) => d(s.int(0, Number.MAX_SAFE_INTEGER), what);
const roomId = id('The room id, as pages name it in login');
const kickReason = d(
  s.int(1, 1_000_000).opt(),
  'The reason the page hears: onKickOut({code: "ZegoClient.Error.Kickout", msg: "kickout reason=N"}); default 2 (1 is a second login of the same user)',
);

const userItem = s.object({
  idName: id('The user id (login id_name)'),
  nickName: id('Its nick name', {}),
  role: d(s.int(0, 100), '1 anchor, 2 audience'),
  loginTime: d(s.int(0, Number.MAX_SAFE_INTEGER), 'When it logged in, ms since the epoch'),
});

const streamItem = s.object({
  streamId: id('The stream id (unique in the app)'),
  roomId,
  idName: id('The user that publishes it'),
  nickName: id('Its nick name', {}),
  extraInfo: d(s.str(16 * 1024), 'The stream extra info its publisher set'),
});

const taskItem = s.object({
  kind: d(s.oneOf(['mix', 'relay', 'bridge'] as const), 'A mix task, a CDN relay or bridged players'),
  roomId: d(s.str(MAX_ID_BYTES).opt(), 'The room (mix tasks)'),
  streamId: d(s.str(MAX_ID_BYTES), 'The mix output, the relayed stream, or "" for bridge viewers'),
  owner: d(s.str(MAX_ID_BYTES).opt(), 'The user that started it (mix tasks)'),
  detail: d(s.str(4096), 'Inputs of a mix, target of a relay, players of the bridge'),
  live: d(s.bool(), 'Its media is flowing (an ffmpeg up, a relay connected)'),
});

const nodeItem = s.object({
  node: d(s.str(256), 'The node name (metrics.node, else the host name)'),
  uptimeS: count('Seconds since the node started'),
  janus: d(s.oneOf(['up', 'down', 'off'] as const), 'The SFU as this node sees it'),
  rooms: count("This app's rooms on the node"),
  users: count("This app's users on the node"),
  streams: count("This app's streams on the node"),
});

const sample = s.object({
  t: d(s.int(0, Number.MAX_SAFE_INTEGER), 'Sample time, ms since the epoch'),
  users: count('Users of the app then'),
  streams: count('Streams of the app then'),
});

/** The routes: request and response (`data`) schemas, with what each does. */
export const ADMIN_ROUTES = {
  overview: {
    summary: 'Nodes, counts, tasks and the last hour of samples of this app (what the operator page shows)',
    request: s.object({}),
    response: s.object({
      nodes: d(s.array(nodeItem, 1000), 'Every node serving the app (one today)'),
      rooms: count('Rooms of the app'),
      users: count('Users of the app'),
      streams: count('Streams of the app'),
      tasks: d(s.array(taskItem, 100_000), 'Mix tasks, CDN relays and bridged players of the app'),
      samples: d(s.array(sample, 10_000), 'Users and streams over the last hour, oldest first'),
    }),
  },
  'list-rooms': {
    summary: "The app's rooms with their user and stream counts",
    request: s.object({ offset, limit }),
    response: s.object({
      total,
      rooms: s.array(
        s.object({ roomId, users: count('Users in it'), streams: count('Streams in it') }),
        ADMIN_MAX_PAGE,
      ),
    }),
  },
  'list-users': {
    summary: 'The users of a room',
    request: s.object({ roomId, offset, limit }),
    response: s.object({ total, users: s.array(userItem, ADMIN_MAX_PAGE) }),
  },
  'list-streams': {
    summary: 'The streams of a room, or of the whole app without roomId',
    request: s.object({
      roomId: d(s.str(MAX_ID_BYTES, { nonEmpty: true }).opt(), 'Only this room'),
      offset,
      limit,
    }),
    response: s.object({ total, streams: s.array(streamItem, ADMIN_MAX_PAGE) }),
  },
  'kick-user': {
    summary: 'Kicks a user out of its room: its page gets onKickOut, its streams end, its socket closes',
    request: s.object({ roomId, idName: id('The user to kick'), reason: kickReason }),
    response: s.object({ roomId, idName: id('The user kicked') }),
  },
  'close-room': {
    summary: 'Closes a room: every user is kicked (onKickOut), every stream and mix task ends',
    request: s.object({ roomId, reason: kickReason }),
    response: s.object({ roomId, users: count('Users kicked'), streams: count('Streams ended') }),
  },
  'end-stream': {
    summary:
      "Ends a stream: it leaves its room (viewers hear it deleted and stop), its publisher's session is closed (onPublishStateUpdate(1, id, ZegoPublish.Error.SessionClosed))",
    request: s.object({ streamId: id('The stream to end') }),
    response: s.object({ roomId, streamId: id('The stream ended') }),
  },
  'send-room-message': {
    summary: 'Sends a room message (onRecvRoomMsg) to every user of a room, from the server',
    request: s.object({
      roomId,
      content: d(s.str(ADMIN_MAX_MESSAGE_BYTES), 'The message text'),
      category: d(s.int(0, 1000).opt(), 'msg_category (default 1: chat)'),
      type: d(s.int(0, 1000).opt(), 'msg_type (default 1: text)'),
      fromIdName: d(
        s.str(MAX_ID_BYTES, { nonEmpty: true }).opt(),
        'The sender pages see (default "@server")',
      ),
      fromNickName: d(s.str(MAX_ID_BYTES).opt(), 'Its nick name (default "server")'),
    }),
    response: s.object({ msgId: count('The message id in the room'), recipients: count('Users it went to') }),
  },
  'send-custom-command': {
    summary: 'Sends a custom command (onRecvCustomCommand) to users of a room, from the server',
    request: s.object({
      roomId,
      content: d(s.str(MAX_CUSTOM_MSG_BYTES), 'The custom content (as sendCustomCommand)'),
      to: d(
        s.array(s.str(MAX_ID_BYTES, { nonEmpty: true }), ADMIN_MAX_RECIPIENTS).opt(),
        'Only these users (default every user)',
      ),
      fromIdName: d(
        s.str(MAX_ID_BYTES, { nonEmpty: true }).opt(),
        'The sender pages see (default "@server")',
      ),
      fromNickName: d(s.str(MAX_ID_BYTES).opt(), 'Its nick name (default "server")'),
    }),
    response: s.object({ recipients: count('Users it went to') }),
  },
  'mint-token': {
    summary: 'Mints a login token for a user of this app (what a business server hands its pages)',
    request: s.object({
      idName: id('The user id the token is for'),
      format: d(
        s.oneOf(['04', 'v1'] as const).opt(),
        'Default 04 when the app has a serverSecret, v1 otherwise',
      ),
      roomId: d(s.str(MAX_ID_BYTES, { nonEmpty: true }).opt(), '04 only: the only room the token logs in to'),
      ttlS: d(
        s.int(1, 10 * 365 * 24 * 3600).opt(),
        'Lifetime, s (default 3600; at most auth.maxTokenLifetimeS)',
      ),
      publish: d(s.bool().opt(), '04 only: false = may not publish (default true)'),
      streamIds: d(
        s.array(s.str(MAX_ID_BYTES, { nonEmpty: true }), 1000).opt(),
        '04 only: the only stream ids it may publish',
      ),
    }),
    response: s.object({
      token: d(s.str(4096), 'The token (login token argument)'),
      format: s.oneOf(['04', 'v1'] as const),
      expiresAt: d(s.int(0, Number.MAX_SAFE_INTEGER), 'Expiry, s since the epoch'),
    }),
  },
} satisfies Record<string, { summary: string; request: Rule<unknown>; response: Rule<unknown> }>;

export type AdminRoute = keyof typeof ADMIN_ROUTES;
export const ADMIN_ROUTE_NAMES = Object.keys(ADMIN_ROUTES) as AdminRoute[];
/** A route's request body, as its schema admits it. */
export type AdminRequest<R extends AdminRoute> = Infer<(typeof ADMIN_ROUTES)[R]['request']>;
/** A route's answer (`data`), as its schema describes it. */
export type AdminResponse<R extends AdminRoute> = Infer<(typeof ADMIN_ROUTES)[R]['response']>;

/**
 * The admin API's errors: `{code, error, message}` with the HTTP status. Every one is documented in
 * docs/errors.md (spec/unit/errors-doc.test.ts checks).
 */
export const ADMIN_ERRORS = {
  invalid_json: { code: 40001, status: 400, message: 'the body is not JSON' },
  invalid_body: {
    code: 40002,
    status: 400,
    message: 'a field is missing, of the wrong type or out of range',
  },
  cannot_mint: { code: 40003, status: 400, message: 'this token cannot be minted for this app' },
  missing_auth: { code: 40101, status: 401, message: 'the signature headers are missing or malformed' },
  unknown_app: { code: 40102, status: 401, message: 'no such app, or it has no adminSecret' },
  bad_signature: { code: 40103, status: 401, message: 'the signature does not match' },
  stale_request: { code: 40104, status: 401, message: 'the timestamp is outside the allowed clock skew' },
  replayed_request: { code: 40105, status: 401, message: 'this nonce was already used' },
  no_route: { code: 40401, status: 404, message: 'no such route' },
  room_not_found: { code: 40402, status: 404, message: 'no such room' },
  user_not_found: { code: 40403, status: 404, message: 'no such user in the room' },
  stream_not_found: { code: 40404, status: 404, message: 'no such stream' },
  method_not_allowed: { code: 40501, status: 405, message: 'only POST' },
  body_too_large: { code: 41301, status: 413, message: 'the body is over admin.maxBodyBytes' },
  unsupported_type: { code: 41501, status: 415, message: 'the body must be application/json' },
  rate_limited: { code: 42901, status: 429, message: 'too many requests' },
  internal: { code: 50001, status: 500, message: 'internal error' },
  busy: { code: 50301, status: 503, message: 'too many recent requests to remember their nonces' },
} as const;

export type AdminErrorName = keyof typeof ADMIN_ERRORS;

/** An admin API error answer. */
export const ADMIN_ERROR_BODY = s.object({
  code: d(s.int(40000, 59999), 'The error code (docs/errors.md, "Admin API")'),
  error: d(s.oneOf(Object.keys(ADMIN_ERRORS) as AdminErrorName[]), 'The error name'),
  message: d(s.str(4096), 'What was wrong, naming the field when there is one'),
});

/** The signature headers of a request (docs/admin.md). */
export const ADMIN_HEADERS = {
  appid: 'x-zego-appid',
  timestamp: 'x-zego-timestamp',
  nonce: 'x-zego-nonce',
  signature: 'x-zego-signature',
} as const;
