/**
 * The real shape of every room command (field names and ranges from its schema, src/protocol/roomSchema.ts)
 * and every media request (src/protocol/mediaSchema.ts), filled by lib/hostile.ts.
 * Run-time values (the live session id, a valid token) are `Ref`s resolved when the frame is sent.
 */
import fc from 'fast-check';
import { MEDIA_ACKS, MEDIA_HEADER_VERSION, type MediaRequest } from '../../../src/protocol/media';
import type { RoomCmd } from '../../../src/protocol/room';
import { ROOM_REQUEST_SCHEMAS } from '../../../src/protocol/roomSchema';
import type { Rule, RuleInfo } from '../../../src/protocol/schema';
import { BYSTANDER_ID } from './bystander';
import {
  Embed,
  Obj,
  Ref,
  embedded,
  field,
  frames,
  heavy,
  hostile,
  light,
  object,
  type Field,
  type Frame,
  type J,
} from './hostile';

const short = (min = 0, max = 24) => fc.string({ minLength: min, maxLength: max }) as fc.Arbitrary<J>;
/** Ids a hostile client may name: itself, nobody, and the bystander in another room. */
const someId: fc.Arbitrary<J> = fc.oneof(
  fc.constant<J>(new Ref('id_name')),
  fc.constant<J>(BYSTANDER_ID),
  fc.constantFrom<J>('nobody', ''),
);
const streamId: fc.Arbitrary<J> = fc.oneof(
  fc.integer({ min: 0, max: 12 }).map((n) => `s${n}`),
  fc.constantFrom<J>('', 'bystander-stream'),
);

/** JSON-string payloads (`stream_msg`, `custom_msg`, `signal_msg`) with hostile values inside. */
const STRING_PAYLOADS: Record<string, fc.Arbitrary<J>> = {
  stream_msg: object({ stream_id: embedded(streamId), extra_info: embedded(short(0, 64)) }).map(
    (o) => new Embed(o),
  ),
  custom_msg: object({
    from_userid: embedded(someId),
    from_username: embedded(short()),
    request_id: embedded(short()),
    custom_content: embedded(short(0, 64)),
    room_id: embedded(fc.constant<J>(new Ref('room_id'))),
  }).map((o) => new Embed(o)),
  // biz_channel's req_body: start_mix / stop_mix / push bodies (protocol/bizSchema.ts) with hostile rectangles,
  // sizes, outputs and push URLs inside the JSON string.
  req_body: fc
    .oneof(
      object({
        MixInput: embedded(
          fc.array(
            object({
              stream_id: embedded(streamId),
              rect: embedded(
                object({
                  layer: embedded(fc.integer({ min: -1, max: 3 })),
                  top: embedded(fc.integer({ min: -10, max: 2000 })),
                  left: embedded(fc.integer({ min: -10, max: 2000 })),
                  bottom: embedded(fc.integer({ min: -10, max: 2000 })),
                  right: embedded(fc.integer({ min: -10, max: 2000 })),
                }),
              ),
            }),
            { maxLength: 20 },
          ) as fc.Arbitrary<J>,
        ),
        MixOutput: embedded(
          fc.array(
            object({
              stream_id: embedded(streamId),
              mixurl: embedded(fc.constantFrom<J>('rtmp://127.0.0.1:1/live/x', 'http://x', 'rtmp://[::', '')),
              bitrate: embedded(fc.integer({ min: -1, max: 20_000_000 })),
              fps: embedded(fc.integer({ min: -1, max: 120 })),
              width: embedded(fc.integer({ min: -1, max: 5000 })),
              height: embedded(fc.integer({ min: -1, max: 5000 })),
            }),
            { maxLength: 2 },
          ) as fc.Arbitrary<J>,
        ),
        output_bg_color: embedded(fc.integer({ min: -1, max: 2 ** 33 })),
        output_bg_image: embedded(fc.constantFrom<J>('preset-id://none', 'file:///etc/passwd', '')),
      }),
      object({
        stream_id: embedded(streamId),
        mixurl: embedded(fc.constantFrom<J>('rtmp://127.0.0.1:1/live/x', '')),
      }),
      object({
        stream_id: embedded(streamId),
        pushurl: embedded(
          fc.constantFrom<J>(
            'rtmp://127.0.0.1:1/live/p',
            'rtmp://cdn.example.com/live/p',
            'file:///tmp/x',
            'x',
            '',
          ),
        ),
      }),
    )
    .map((o) => new Embed(o)),
  signal_msg: object({
    request_id: embedded(short()),
    room_id: embedded(fc.constant<J>(new Ref('room_id'))),
    from_userid: embedded(someId),
    from_username: embedded(short()),
    to_userid: embedded(someId),
    result: embedded(fc.constantFrom<J>(0, 1)),
  }).map((o) => new Embed(o)),
};

/** A valid value for one schema field (semantic values where the handler needs them). */
function validValue(name: string, rule: Rule<unknown>): fc.Arbitrary<J> {
  const payload = STRING_PAYLOADS[name];
  if (payload) return payload;
  switch (name) {
    case 'token':
      return fc.constant(new Ref('token'));
    case 'id_name':
      return fc.constant(new Ref('id_name'));
    case 'room_name':
      return fc.oneof(fc.constant<J>(new Ref('room_id')), fc.constantFrom<J>('fuzz-room-2', 'fuzz-room-3'));
    case 'version':
      return fc.constant<J>('1.12.5');
    case 'ptype':
      return fc.constantFrom<J>('push', 'pull');
    case 'stream_id':
      return streamId;
    case 'trans_type':
      return fc.constantFrom<J>('quiz', 'q2', 't'.repeat(128));
  }
  return fromInfo(name, rule.info);
}

/** Any valid value a schema rule admits (bounded small, so frames stay light). */
function fromInfo(name: string, info: RuleInfo): fc.Arbitrary<J> {
  switch (info.kind) {
    case 'str':
      return short(info.nonEmpty ? 1 : 0, Math.min(info.max, 32)).map((v) => (info.prefix ?? '') + String(v));
    case 'int':
      return fc.integer({ min: info.min, max: info.max });
    case 'oneOf':
      return fc.constantFrom<J>(...info.values);
    case 'strOrInt':
      return fc.oneof(short(0, 16), fc.nat({ max: 1000 }) as fc.Arbitrary<J>);
    case 'maybe':
      return fc.oneof(fc.constant<J>(null), fromInfo(name, info.inner.info));
    case 'ignored':
      return fc.constant<J>(null);
    case 'bool':
      return fc.boolean();
    case 'array':
      // Ids named in a list are people: itself, nobody, the bystander.
      if (info.item.info.kind === 'str' && /id_name/.test(name))
        return fc.array(someId, { minLength: info.minItems, maxLength: Math.min(3, info.maxItems) });
      return fc.array(fromInfo(name, info.item.info), {
        minLength: info.minItems,
        maxLength: Math.max(info.minItems, Math.min(3, info.maxItems)),
      }) as fc.Arbitrary<J>;
    case 'object': {
      const fields: Record<string, fc.Arbitrary<Field>> = {};
      for (const [k, r] of Object.entries(info.shape)) fields[k] = field(validValue(k, r));
      return object(fields) as fc.Arbitrary<J>;
    }
  }
}

export function roomBody(cmd: RoomCmd): fc.Arbitrary<Obj> {
  const fields: Record<string, fc.Arbitrary<Field>> = {};
  const info = ROOM_REQUEST_SCHEMAS[cmd].info;
  if (info.kind !== 'object') throw new Error(`the ${cmd} schema is not an object`);
  for (const [name, rule] of Object.entries(info.shape)) fields[name] = field(validValue(name, rule));
  return object(fields);
}

/** Header fields are mostly right (so most frames reach the body checks), each sometimes hostile. */
const hfield = (valid: fc.Arbitrary<J>) => field(valid, 40);

function cmdField(cmd: string, others: string[] = []): fc.Arbitrary<Field> {
  return fc.oneof(
    ...(others.length ? [{ weight: 2, arbitrary: fc.constantFrom<Field>(...others) }] : []),
    { weight: 30, arbitrary: fc.constant<Field>(cmd) },
    { weight: 2, arbitrary: light as fc.Arbitrary<Field> },
    { weight: 1, arbitrary: heavy as fc.Arbitrary<Field> },
    {
      weight: 2,
      arbitrary: fc.constantFrom<Field>(
        cmd.toUpperCase(),
        `${cmd} `,
        `${cmd}\u0000`,
        `${'x'.repeat(70)}${cmd}`,
        `${cmd}${'x'.repeat(70)}`,
        `${'😀'.repeat(40)}`,
      ),
    },
  );
}

export function roomHeader(cmd: string): fc.Arbitrary<Obj> {
  return object({
    Protocol: hfield(fc.constantFrom<J>('req', 'req_v2')),
    cmd: cmdField(cmd),
    appid: hfield(fc.oneof(fc.constant<J>(new Ref('appid')), fc.constant<J>(new Ref('appid_string')))),
    seq: hfield(fc.nat({ max: 1_000_000 }) as fc.Arbitrary<J>),
    user_id: hfield(fc.constant<J>(new Ref('user_id'))),
    session_id: hfield(fc.constant<J>(new Ref('session_id'))),
    room_id: hfield(fc.constant<J>(new Ref('room_id'))),
  });
}

export function roomFrames(cmd: RoomCmd): fc.Arbitrary<Frame> {
  return frames(roomHeader(cmd), roomBody(cmd));
}

// ---------------------------------------------------------------------------------------------- media

const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n';
const smallInt = (max = 4000) => fc.integer({ min: 0, max }) as fc.Arbitrary<J>;

/** Field names from the media body interfaces (LoginReqBody, CreateSessionReqBody, MediaDescBody...). */
const MEDIA_BODIES: Record<MediaRequest, Record<string, fc.Arbitrary<J>>> = {
  LoginReq: {
    token: fc.constant(new Ref('token')),
    tokenType: fc.constantFrom<J>(0, 1),
    roomid: fc.constant(new Ref('room_id')),
    anchorname: short(),
    sdkversion: fc.constant<J>('1.12.5'),
  },
  CreateSessionReq: {
    type: fc.constantFrom<J>(0, 1),
    stream_id: streamId,
    negotiate_mode: fc.constantFrom<J>(0, 1),
    strAuthParam: fc.constantFrom<J>('', 'zg_expired=1&zg_nonce=2&zg_token=3'),
  },
  MediaDescReq: {
    type: fc.constantFrom<J>(0, 1),
    sdp: fc.constant<J>(SDP),
    width: smallInt(),
    height: smallInt(),
    framerate: smallInt(60),
    video_min_kpbs: smallInt(),
    video_max_kpbs: smallInt(),
    audio_kpbs: smallInt(),
  },
  CandidateInfoReq: {
    infos: fc.array(
      object({
        candidate: field(fc.constantFrom<J>('', 'candidate:1 1 udp 2122260223 127.0.0.1 9 typ host')),
        sdpMid: field(fc.constantFrom<J>('0', '1', null)),
        sdpMLineIndex: field(fc.constantFrom<J>(0, 1, null)),
      }),
      { maxLength: 3 },
    ) as fc.Arbitrary<J>,
  },
  CloseSessionReq: { reason: fc.integer({ min: 0, max: 3 }) as fc.Arbitrary<J> },
  ClientHBReq: { session_ids: fc.array(smallInt(8), { maxLength: 3 }) as fc.Arbitrary<J> },
  StreamStatusNotify: {
    stream_id: streamId,
    camera_status: fc.constantFrom<J>(0, 2),
    mic_status: fc.constantFrom<J>(0, 2),
  },
  QualityReportReq: {
    stream_id: streamId,
    video_fps: smallInt(60),
    video_kbps: smallInt(),
    audio_kbps: smallInt(),
    rtt: smallInt(),
  },
};

export function mediaBody(cmd: MediaRequest): fc.Arbitrary<Obj> {
  const fields: Record<string, fc.Arbitrary<Field>> = {};
  for (const [name, valid] of Object.entries(MEDIA_BODIES[cmd])) fields[name] = field(valid);
  return object(fields);
}

export function mediaHeader(cmd: string): fc.Arbitrary<Obj> {
  return object({
    version: hfield(fc.constant<J>(MEDIA_HEADER_VERSION)),
    // Acks (answered by nothing), unknown requests, replies and pushes sent back at the server.
    cmd: cmdField(cmd, [...MEDIA_ACKS, 'FooReq', 'ErrorReq', 'LoginRsp', 'CloseSessionPush', 'Req']),
    appid: hfield(fc.oneof(fc.constant<J>(new Ref('appid')), fc.constant<J>(new Ref('appid_string')))),
    seq: hfield(fc.nat({ max: 1_000_000 }) as fc.Arbitrary<J>),
    user_id: hfield(fc.constant<J>(new Ref('user_id'))),
    session_id: hfield(fc.oneof(fc.constantFrom<J>(0, 1, 2, '1', ''), smallInt(5))),
  });
}

export function mediaFrames(cmd: MediaRequest): fc.Arbitrary<Frame> {
  return frames(mediaHeader(cmd), mediaBody(cmd));
}

export { hostile };
