/**
 * The RoomStore's steps as Redis Lua scripts: each checks, changes and PUBLISHes its room event in one
 * atomic step, so events carry a per-room number (`ev`) in the order the changes happened, whichever node
 * made them. The same rules as MemoryRoomStore (the reference; the cluster suite runs both).
 *
 * Every script gets ARGV[1] = key prefix, ARGV[2] = appid, ARGV[3] = room id, then its own arguments.
 * Keys (P = prefix, R = appid:roomId):
 *   P r:R          hash: ev, ss (stream seq), us (user seq), mi (msg id), bi (big msg id), jn, so (orders)
 *   P rm:R         hash idName -> member JSON (MemberInfo + `it`, its user-list item without Action)
 *   P rmo:R, rma:R zsets: members in login order; anchors (role 1) in login order
 *   P rs:R, rsm:R  hashes streamId -> the stream as on the wire (JSON); -> {a owner, c counted, x extra, o order}
 *   P rt:R         hash trans type -> {seq, data, idName, nickName}
 * (the kind before the ids: a room id may hold ':' and never names another room's key)
 *   P rooms        set of R;  P si:appid  hash streamId -> roomId (stream ids are unique per app)
 *   P cu:appid     hash idName -> counted streams;  P ca  hash appid -> counted streams
 *   P nm:node      set of the node's members (JSON [appid, roomId, idName, sessionId]); reaped with it
 *   P nr:node      zset: the node's members replaced by a login on another node within the last lease
 *                  (JSON [appid, roomId, idName, sessionId, nickName, role] -> when); reaped with it
 * A room's keys are deleted when its last member leaves: nothing outlives the room.
 *
 * Event JSON is assembled from strings the server serialised (streams, items, bodies) and numbers, never by
 * re-encoding decoded JSON (Lua's cjson turns [] into {}).
 */
import { MAX_TRANS_TYPES_PER_ROOM } from '../../protocol/constants';
import { ServerCode } from '../../protocol/errors';
import { StreamPushCmd } from '../../protocol/room';
import { CAP_LUA } from './RedisCapCounters';

const C = ServerCode;
const S = StreamPushCmd;

const PRELUDE = `
local P, appid, rid = ARGV[1], ARGV[2], ARGV[3]
local R = ':'..appid..':'..rid
local B, BM, BMO, BMA, BS, BSM, BT = P..'r'..R, P..'rm'..R, P..'rmo'..R, P..'rma'..R, P..'rs'..R, P..'rsm'..R, P..'rt'..R
local CH = P..'ch:'..appid..':'..rid
local E = cjson.encode
local function refuse(code, tag) return {'R', code, tag or ''} end
local WH = {}
local function wh(kind, r, g, o, wire) WH[#WH + 1] = {kind, r, tostring(g or ''), tostring(o), wire} end
local function newgen()
  local t = redis.call('TIME')
  return t[1]..'.'..redis.call('INCR', P..'gen')
end
local function nextev(b) return redis.call('HINCRBY', b, 'ev', 1) end
local function sev(b, ch, cmd, list, except)
  local seq = redis.call('HINCRBY', b, 'ss', 1)
  local e = nextev(b)
  local x = ''
  if except then x = ',"except":'..E(except) end
  redis.call('PUBLISH', ch, '{"k":"stream","ev":'..e..',"seq":'..seq..',"cmd":'..cmd..',"streams":['..list..']'..x..'}')
end
local function uev(action, rest)
  local seq = redis.call('HINCRBY', B, 'us', 1)
  local e = nextev(B)
  local n = redis.call('HLEN', BM)
  redis.call('PUBLISH', CH, '{"k":"user","ev":'..e..',"seq":'..seq..',"count":'..n..',"item":{"Action":'..action..','..rest..'}')
end
local function token(idName, sid) return E({appid, rid, idName, sid}) end
local function uncount(owner)
  local k = P..'cu:'..appid
  if redis.call('HINCRBY', k, owner, -1) <= 0 then redis.call('HDEL', k, owner) end
  if redis.call('HINCRBY', P..'ca', appid, -1) <= 0 then redis.call('HDEL', P..'ca', appid) end
end
local function drop(id)
  local meta = redis.call('HGET', BSM, id)
  if not meta then return nil end
  local w = redis.call('HGET', BS, id)
  redis.call('HDEL', BS, id)
  redis.call('HDEL', BSM, id)
  local m = cjson.decode(meta)
  wh('removed', rid, redis.call('HGET', B, 'g'), m.o, w)
  local si = P..'si:'..appid
  if redis.call('HGET', si, id) == rid then redis.call('HDEL', si, id) end
  if m.c == 1 then uncount(m.a) end
  return w, m
end
local function actor(by, sid)
  local m = redis.call('HGET', BM, by)
  return m and cjson.decode(m).sessionId == sid
end
local function ok(...)
  local r = {'OK', ...}
  return r
end
local function after(r)
  r[#r + 1] = redis.call('HGET', B, 'ss') or '0'
  r[#r + 1] = redis.call('HGETALL', BS)
  r[#r + 1] = redis.call('HGETALL', BSM)
  return r
end
local function snap(r)
  local h = redis.call('HMGET', B, 'ev', 'ss', 'us', 'mi', 'bi')
  for i = 1, 5 do r[#r + 1] = h[i] or '0' end
  r[#r + 1] = redis.call('HLEN', BM)
  r[#r + 1] = redis.call('HGETALL', BS)
  r[#r + 1] = redis.call('HGETALL', BSM)
  r[#r + 1] = redis.call('HGETALL', BT)
  return r
end
`;

/** Script name -> body (after the prelude). */
export const ROOM_SCRIPTS = {
  // 4 idName, 5 member JSON, 6 item rest, 7 mayCreate, 8 maxRooms, 9 maxUsers, 10 node, 11 sessionId, 12 role,
  // 13.. caps to take with the join (key, limit pairs; RedisCapCounters' CAP_LUA): first, as a login took
  // them before its join when they were two round trips; taken only once the room let the member in.
  join: `
local idName = ARGV[4]
local full = capFull(13)
if full > 0 then return {'C', full} end
local created = 0
if redis.call('EXISTS', B) == 0 then
  created = 1
  if ARGV[7] ~= '1' then return refuse(${C.RoomNotExist}) end
  if redis.call('SCARD', P..'rooms') >= tonumber(ARGV[8]) then return refuse(${C.RoomFull}) end
  redis.call('HSET', B, 'ev', 0, 'ss', 0, 'us', 0, 'mi', 0, 'bi', 0, 'jn', 0, 'so', 0, 'g', newgen())
  redis.call('SADD', P..'rooms', appid..':'..rid)
end
local prev = redis.call('HGET', BM, idName)
if not prev and redis.call('HLEN', BM) >= tonumber(ARGV[9]) then return refuse(${C.RoomFull}) end
local prevOut = ''
if prev then
  local p = cjson.decode(prev)
  redis.call('HDEL', BM, idName)
  redis.call('ZREM', BMO, idName)
  redis.call('ZREM', BMA, idName)
  uev(2, p.it)
  local e = nextev(B)
  redis.call('PUBLISH', CH, '{"k":"kick","ev":'..e..',"idName":'..E(idName)..',"sessionId":'..E(p.sessionId)..',"reason":1,"gone":false}')
  redis.call('SREM', P..'nm:'..p.node, token(idName, p.sessionId))
  if p.node ~= ARGV[10] then
    -- Replaced from another node: its node tells the old session's user-left (replaced) when it hears the
    -- kick; if that node is dead (not reaped yet), the node that reaps it tells it (node_lost). Kept a
    -- lease long (trimmed by the old node's beat).
    local tr = redis.call('TIME')
    redis.call('ZADD', P..'nr:'..p.node, tonumber(tr[1]) * 1000 + math.floor(tonumber(tr[2]) / 1000),
      E({appid, rid, idName, p.sessionId, p.nickName or '', p.role or 0}))
  end
  prevOut = E({sessionId = p.sessionId, node = p.node})
end
capTake(13, ARGV[10])
local jn = redis.call('HINCRBY', B, 'jn', 1)
redis.call('HSET', BM, idName, ARGV[5])
redis.call('ZADD', BMO, jn, idName)
if ARGV[12] == '1' then redis.call('ZADD', BMA, jn, idName) end
uev(1, ARGV[6])
redis.call('SADD', P..'nm:'..ARGV[10], token(idName, ARGV[11]))
local anchor = ''
local a = redis.call('ZRANGE', BMA, 0, 0)
if a[1] then anchor = redis.call('HGET', BM, a[1]) or '' end
local r = snap({'OK'})
r[#r + 1] = anchor
r[#r + 1] = prevOut
r[#r + 1] = created
r[#r + 1] = redis.call('HGET', B, 'g') or ''
return r`,
  // 4 idName, 5 sessionId
  leave: `
local cur = redis.call('HGET', BM, ARGV[4])
if not cur then return ok(0, 0) end
local p = cjson.decode(cur)
if p.sessionId ~= ARGV[5] then return ok(0, 0) end
redis.call('HDEL', BM, ARGV[4])
redis.call('ZREM', BMO, ARGV[4])
redis.call('ZREM', BMA, ARGV[4])
redis.call('SREM', P..'nm:'..p.node, token(ARGV[4], p.sessionId))
uev(2, p.it)
if redis.call('HLEN', BM) > 0 then return ok(1, 0) end
local g = redis.call('HGET', B, 'g') or ''
for _, id in ipairs(redis.call('HKEYS', BS)) do drop(id) end
redis.call('DEL', B, BM, BMO, BMA, BS, BSM, BT)
redis.call('SREM', P..'rooms', appid..':'..rid)
return ok(1, 1, g)`,
  snapshot: `
if redis.call('EXISTS', B) == 0 then return {'NONE'} end
return snap({'OK'})`,
  streams: `
if redis.call('EXISTS', B) == 0 then return refuse(${C.SessionNotFound}) end
return after({'OK'})`,
  // 4 from, 5 count
  users: `
if redis.call('EXISTS', B) == 0 then return refuse(${C.SessionNotFound}) end
local from = tonumber(ARGV[4])
local ids = redis.call('ZRANGE', BMO, from, from + tonumber(ARGV[5]) - 1)
local list = {}
if #ids > 0 then list = redis.call('HMGET', BM, unpack(ids)) end
return {'OK', list, redis.call('HLEN', BM), redis.call('HGET', B, 'us') or '0'}`,
  // 4 by, 5 sessionId, 6 stream id, 7 wire JSON, 8 extra, 9 max per room, 10 per user, 11 per app
  announce: `
local by, id, wire, extra = ARGV[4], ARGV[6], ARGV[7], ARGV[8]
if not actor(by, ARGV[5]) then return refuse(${C.SessionNotFound}) end
local cur = redis.call('HGET', BSM, id)
if cur then
  local m = cjson.decode(cur)
  if m.a ~= by then return refuse(${C.StreamExists}) end
  if m.x == extra then return after(ok(0)) end
  m.x = extra
  redis.call('HSET', BS, id, wire)
  redis.call('HSET', BSM, id, E(m))
  sev(B, CH, ${S.Updated}, wire, by)
  return after(ok(1))
end
if redis.call('HLEN', BS) >= tonumber(ARGV[9]) then return refuse(${C.TooManyStreams}, 'room') end
local si = P..'si:'..appid
local other = redis.call('HGET', si, id)
local counted = 1
local moved = false
if other and other ~= rid then
  local OR = ':'..appid..':'..other
  local ob = P..'r'..OR
  local held = redis.call('HGET', P..'rsm'..OR, id)
  if held then
    local hm = cjson.decode(held)
    if hm.a ~= by then return refuse(${C.StreamExists}) end
    local ow = redis.call('HGET', P..'rs'..OR, id)
    redis.call('HDEL', P..'rs'..OR, id)
    redis.call('HDEL', P..'rsm'..OR, id)
    wh('removed', other, redis.call('HGET', ob, 'g'), hm.o, ow)
    sev(ob, P..'ch:'..appid..':'..other, ${S.Deleted}, ow, by)
    counted = hm.c
    moved = true
  end
end
if not moved then
  if tonumber(redis.call('HGET', P..'cu:'..appid, by) or '0') >= tonumber(ARGV[10]) then
    return refuse(${C.TooManyStreams}, 'user')
  end
  if tonumber(redis.call('HGET', P..'ca', appid) or '0') >= tonumber(ARGV[11]) then
    return refuse(${C.TooManyStreams}, 'app')
  end
  redis.call('HINCRBY', P..'cu:'..appid, by, 1)
  redis.call('HINCRBY', P..'ca', appid, 1)
end
local o = redis.call('HINCRBY', B, 'so', 1)
redis.call('HSET', BS, id, wire)
redis.call('HSET', BSM, id, E({a = by, c = counted, x = extra, o = o}))
redis.call('HSET', si, id, rid)
wh('added', rid, redis.call('HGET', B, 'g'), o, wire)
sev(B, CH, ${S.Added}, wire, by)
return after(ok(1))`,
  // 4 by, 5 stream id, 6 the wire JSON read, 7 the new wire JSON, 8 extra (a compare-and-set)
  updateExtra: `
if redis.call('EXISTS', B) == 0 then return refuse(${C.SessionNotFound}) end
local cur = redis.call('HGET', BSM, ARGV[5])
if not cur then return refuse(${C.StreamNotFound}) end
local m = cjson.decode(cur)
if m.a ~= ARGV[4] then return refuse(${C.StreamNotFound}) end
if redis.call('HGET', BS, ARGV[5]) ~= ARGV[6] then return {'RETRY'} end
m.x = ARGV[8]
redis.call('HSET', BS, ARGV[5], ARGV[7])
redis.call('HSET', BSM, ARGV[5], E(m))
sev(B, CH, ${S.Updated}, ARGV[7], ARGV[4])
return after(ok(1))`,
  // 4 by, 5 stream id
  unannounce: `
if redis.call('EXISTS', B) == 0 then return refuse(${C.SessionNotFound}) end
local cur = redis.call('HGET', BSM, ARGV[5])
if not cur or cjson.decode(cur).a ~= ARGV[4] then return refuse(${C.StreamNotFound}) end
local w = drop(ARGV[5])
sev(B, CH, ${S.Deleted}, w, ARGV[4])
return after(ok(1))`,
  // 4 stream id, 5 wire JSON, 6 owner
  addServerStream: `
if redis.call('EXISTS', B) == 0 or redis.call('HEXISTS', P..'si:'..appid, ARGV[4]) == 1 then return ok(0) end
local o = redis.call('HINCRBY', B, 'so', 1)
redis.call('HSET', BS, ARGV[4], ARGV[5])
redis.call('HSET', BSM, ARGV[4], E({a = ARGV[6], c = 0, x = '', o = o}))
redis.call('HSET', P..'si:'..appid, ARGV[4], rid)
wh('added', rid, redis.call('HGET', B, 'g'), o, ARGV[5])
sev(B, CH, ${S.Added}, ARGV[5], ARGV[6])
return ok(1)`,
  // 4 stream id, 5 owner ('' = any)
  remove: `
local cur = redis.call('HGET', BSM, ARGV[4])
if not cur then return ok(0) end
local m = cjson.decode(cur)
if ARGV[5] ~= '' and m.a ~= ARGV[5] then return ok(0) end
local w = drop(ARGV[4])
sev(B, CH, ${S.Deleted}, w, m.a)
return ok(1)`,
  // 4 idName
  endStreamsOf: `
if redis.call('EXISTS', B) == 0 or redis.call('HEXISTS', BM, ARGV[4]) == 1 then return ok(0) end
local mine = {}
local all = redis.call('HGETALL', BSM)
for i = 1, #all, 2 do
  local m = cjson.decode(all[i + 1])
  if m.a == ARGV[4] then mine[#mine + 1] = {m.o, all[i]} end
end
if #mine == 0 then return ok(0) end
table.sort(mine, function(x, y) return x[1] < y[1] end)
local ws = {}
for _, it in ipairs(mine) do ws[#ws + 1] = drop(it[2]) end
sev(B, CH, ${S.Deleted}, table.concat(ws, ','), ARGV[4])
return ok(#ws)`,
  // 4 stream id, 5 owner
  reannounce: `
local cur = redis.call('HGET', BSM, ARGV[4])
if not cur or cjson.decode(cur).a ~= ARGV[5] then return ok(0) end
sev(B, CH, ${S.Added}, redis.call('HGET', BS, ARGV[4]), ARGV[5])
return ok(1)`,
  // 4 stream id (ARGV[3] unused)
  whereIs: `
local r = redis.call('HGET', P..'si:'..appid, ARGV[4])
if not r then return {'NONE'} end
local m = redis.call('HGET', P..'rsm:'..appid..':'..r, ARGV[4])
if not m then return {'NONE'} end
return {'OK', r, cjson.decode(m).a}`,
  // 4 by, 5 the item JSON (without its id)
  chat: `
if redis.call('EXISTS', B) == 0 then return refuse(${C.SessionNotFound}) end
local id = redis.call('HINCRBY', B, 'mi', 1)
local e = nextev(B)
redis.call('PUBLISH', CH, '{"k":"chat","ev":'..e..',"id":'..id..',"item":'..ARGV[5]..',"except":'..E(ARGV[4])..'}')
return ok(id)`,
  // 4 type, 5 data, 6 by, 7 nick
  trans: `
if redis.call('EXISTS', B) == 0 then return refuse(${C.SessionNotFound}) end
local prev = redis.call('HGET', BT, ARGV[4])
if not prev and redis.call('HLEN', BT) >= ${MAX_TRANS_TYPES_PER_ROOM} then return refuse(${C.TooManyTransTypes}) end
local seq = 1
if prev then seq = cjson.decode(prev).seq + 1 end
local f = '"seq":'..seq..',"data":'..E(ARGV[5])..',"idName":'..E(ARGV[6])..',"nickName":'..E(ARGV[7])
redis.call('HSET', BT, ARGV[4], '{'..f..'}')
local e = nextev(B)
redis.call('PUBLISH', CH, '{"k":"trans","ev":'..e..',"type":'..E(ARGV[4])..','..f..'}')
return ok(seq)`,
  // 4 type
  transFetch: `
if redis.call('EXISTS', B) == 0 then return refuse(${C.SessionNotFound}) end
return ok(redis.call('HGET', BT, ARGV[4]) or '')`,
  // 4 now, 5.. each item's JSON after its opening brace (without bigmsg_id)
  bigim: `
if redis.call('EXISTS', B) == 0 then return refuse(${C.SessionNotFound}) end
local n = #ARGV - 4
local last = redis.call('HINCRBY', B, 'bi', n)
local items = {}
for i = 1, n do items[i] = '{"bigmsg_id":"'..ARGV[4]..'-'..(last - n + i)..'",'..ARGV[4 + i] end
local e = nextev(B)
redis.call('PUBLISH', CH, '{"k":"big","ev":'..e..',"items":['..table.concat(items, ',')..']}')
return ok(last - n + 1)`,
  // 4 cmd, 5 serialised body, 6 JSON list of idNames
  send: `
if redis.call('EXISTS', B) == 0 then return refuse(${C.SessionNotFound}) end
local e = nextev(B)
redis.call('PUBLISH', CH, '{"k":"push","ev":'..e..',"cmd":'..E(ARGV[4])..',"ser":'..E(ARGV[5])..',"to":'..ARGV[6]..'}')
return ok(1)`,
  // 4 idName, 5 reason
  kick: `
local cur = redis.call('HGET', BM, ARGV[4])
if not cur then return ok(0) end
local e = nextev(B)
redis.call('PUBLISH', CH, '{"k":"kick","ev":'..e..',"idName":'..E(ARGV[4])..',"sessionId":'..E(cjson.decode(cur).sessionId)..',"reason":'..tonumber(ARGV[5])..',"gone":true}')
return ok(1)`,
  // After Redis lost its data: what this node's members hold, written back without events (nobody saw
  // anything change). 4-8 the mirror's ev, ss, us, mi, bi; 9 node; 10 members count, then per member:
  // idName, JSON (with \`it\`); then streams count, per stream: id, wire JSON, owner, extra; then trans
  // pairs: type, entry JSON. Counters only ever go up; what another node wrote back first stays.
  rebuild: `
if redis.call('EXISTS', B) == 0 then
  redis.call('HSET', B, 'ev', 0, 'ss', 0, 'us', 0, 'mi', 0, 'bi', 0, 'jn', 0, 'so', 0, 'g', newgen())
  redis.call('SADD', P..'rooms', appid..':'..rid)
end
local names = {'ev', 'ss', 'us', 'mi', 'bi'}
for i = 1, 5 do
  if tonumber(redis.call('HGET', B, names[i]) or '0') < tonumber(ARGV[3 + i]) then
    redis.call('HSET', B, names[i], ARGV[3 + i])
  end
end
local i = 11
for _ = 1, tonumber(ARGV[10]) do
  local idName, mj = ARGV[i], ARGV[i + 1]
  i = i + 2
  if redis.call('HEXISTS', BM, idName) == 0 then
    local m = cjson.decode(mj)
    local jn = redis.call('HINCRBY', B, 'jn', 1)
    redis.call('HSET', BM, idName, mj)
    redis.call('ZADD', BMO, jn, idName)
    if m.role == 1 then redis.call('ZADD', BMA, jn, idName) end
    redis.call('SADD', P..'nm:'..ARGV[9], token(idName, m.sessionId))
  end
end
local ns = tonumber(ARGV[i])
i = i + 1
for _ = 1, ns do
  local id, wire, owner, extra = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  if redis.call('HEXISTS', BSM, id) == 0 and redis.call('HEXISTS', P..'si:'..appid, id) == 0 then
    local o = redis.call('HINCRBY', B, 'so', 1)
    redis.call('HSET', BS, id, wire)
    redis.call('HSET', BSM, id, E({a = owner, c = 1, x = extra, o = o}))
    redis.call('HSET', P..'si:'..appid, id, rid)
    redis.call('HINCRBY', P..'cu:'..appid, owner, 1)
    redis.call('HINCRBY', P..'ca', appid, 1)
  end
end
while i < #ARGV do
  local prev = redis.call('HGET', BT, ARGV[i])
  if not prev or cjson.decode(prev).seq < cjson.decode(ARGV[i + 1]).seq then
    redis.call('HSET', BT, ARGV[i], ARGV[i + 1])
  end
  i = i + 2
end
return ok(1)`,
  // 4 reason
  close: `
if redis.call('EXISTS', B) == 0 then return ok(0) end
local e = nextev(B)
redis.call('PUBLISH', CH, '{"k":"close","ev":'..e..',"reason":'..tonumber(ARGV[4])..'}')
return ok(1)`,
} as const;

export type RoomScript = keyof typeof ROOM_SCRIPTS;

/**
 * A script's body runs as a function: when it listed or took off streams, its reply comes wrapped as
 * {'W', changes, reply}, each change {added|removed, room id, room generation, stream order, wire JSON}
 * (webhooks: the node that made the step tells them, keyed by what Redis numbered, so the key is the same
 * whichever node would have sent it).
 */
export function roomScript(name: RoomScript): string {
  return `${PRELUDE}${name === 'join' ? CAP_LUA : ''}
local function body()
${ROOM_SCRIPTS[name]}
end
local res = body()
if #WH > 0 then return {'W', WH, res} end
return res`;
}
