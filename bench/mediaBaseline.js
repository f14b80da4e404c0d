/**
 * The raw janode baseline for bench/media.js: what the same Janus, browser and fake camera give with no
 * SDK and no server of ours in the path. A tiny WebSocket relay in the bench process drives Janus through
 * janode exactly as the janus-on-loopback prototype did (one Janus session, one VideoRoom handle per
 * PeerConnection), and a few lines of page code do the WebRTC side with plain RTCPeerConnection.
 *
 * The relay connects to the Janus our server spawned (its WebSocket port is fixed by the bench's server
 * config), in a room of its own created with our server's room settings, so SFU, process and config are
 * the same for both sides of the comparison.
 *
 * Keyframe modes of a subscription (the experiment of issue 9), all on the publisher's handle with
 * `configure({ keyframe: true })`:
 *   a  none from us (VideoRoom itself sends a PLI when the subscriber's PeerConnection is up)
 *   b  at the subscriber's webrtcup (what our server does today)
 *   c  right after joinSubscriber resolves, before the page has even answered (ICE not started)
 *   d  both b and c
 */
/* global WebSocket, navigator, RTCPeerConnection, RTCRtpReceiver, MediaStream -- pageCode runs in the page */
const { WebSocketServer } = require('ws');

const RELAY_TIMEOUT_MS = 10_000;

const withTimeout = (p, ms, what) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });

/**
 * Starts the relay on 127.0.0.1. `roomSettings` are the VideoRoom `create` parameters (ours, minus the id).
 * Returns { url, room, close() }.
 */
async function startRawRelay(janusUrl, roomSettings) {
  // janode is ESM-only; a CommonJS script loads it with import().
  const { default: Janode } = await import('janode');
  const { default: VideoRoom } = await import('janode/plugins/videoroom');
  Janode.Logger.setLevel('none');
  const conn = await withTimeout(
    Janode.connect({ address: { url: janusUrl }, retry_time_secs: 1, max_retries: 3 }),
    RELAY_TIMEOUT_MS,
    'janode connect',
  );
  const session = await withTimeout(conn.create(), RELAY_TIMEOUT_MS, 'janus session');
  const admin = await withTimeout(session.attach(VideoRoom), RELAY_TIMEOUT_MS, 'janus attach');
  // Our server numbers its rooms from 1000 up; this one is far from them.
  const room = 900_000_000 + Math.floor(Math.random() * 1_000_000);
  await withTimeout(admin.create({ ...roomSettings, room }), RELAY_TIMEOUT_MS, 'janus room');

  /** page-chosen handle id -> Promise<janode handle> (trickles can arrive before attach resolves). */
  const handles = new Map();
  /** feed id -> the publisher's handle, for keyframe requests. */
  const feeds = new Map();
  const keyframe = (feed) => {
    const pub = feeds.get(feed);
    if (pub)
      withTimeout(pub.configure({ keyframe: true }), RELAY_TIMEOUT_MS, 'keyframe').catch((e) =>
        console.error('raw relay: keyframe request failed:', e.message),
      );
  };
  const attach = (hid) => {
    const p = withTimeout(session.attach(VideoRoom), RELAY_TIMEOUT_MS, 'janus attach');
    handles.set(hid, p);
    p.catch(() => handles.delete(hid));
    return p;
  };
  const detach = async (hid) => {
    const p = handles.get(hid);
    handles.delete(hid);
    if (!p) return;
    const h = await p;
    for (const [feed, pub] of feeds) if (pub === h) feeds.delete(feed);
    await withTimeout(h.detach(), RELAY_TIMEOUT_MS, 'janus detach');
  };

  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => {
    const mine = new Set();
    const send = (o) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(o));
    ws.on('message', async (data) => {
      const m = JSON.parse(String(data));
      try {
        switch (m.op) {
          case 'publish': {
            mine.add(m.hid);
            const h = await attach(m.hid);
            h.on(Janode.EVENT.HANDLE_WEBRTCUP, () => send({ ev: 'webrtcup', hid: m.hid }));
            const r = await withTimeout(
              h.joinConfigurePublisher({ room, display: m.hid, audio: true, video: true, jsep: m.offer }),
              RELAY_TIMEOUT_MS,
              'joinandconfigure',
            );
            feeds.set(r.feed, h);
            send({ id: m.id, feed: r.feed, answer: r.jsep });
            break;
          }
          case 'subscribe': {
            mine.add(m.hid);
            const h = await attach(m.hid);
            h.on(Janode.EVENT.HANDLE_WEBRTCUP, () => {
              if (m.kf === 'b' || m.kf === 'd') keyframe(m.feed);
              send({ ev: 'webrtcup', hid: m.hid });
            });
            const r = await withTimeout(h.joinSubscriber({ room, feed: m.feed }), RELAY_TIMEOUT_MS, 'join');
            if (m.kf === 'c' || m.kf === 'd') keyframe(m.feed);
            send({ id: m.id, offer: r.jsep });
            break;
          }
          case 'start': {
            const h = await handles.get(m.hid);
            await withTimeout(h.start({ jsep: m.answer }), RELAY_TIMEOUT_MS, 'start');
            send({ id: m.id });
            break;
          }
          case 'trickle': {
            const h = await handles.get(m.hid);
            if (!h) break;
            if (m.candidate) await h.trickle(m.candidate);
            else await h.trickleComplete();
            break;
          }
          case 'leave':
            mine.delete(m.hid);
            await detach(m.hid);
            send({ id: m.id });
            break;
          default:
            throw new Error(`unknown op ${m.op}`);
        }
      } catch (e) {
        if (m.id) send({ id: m.id, error: e.message });
        else console.error(`raw relay: ${m.op} failed:`, e.message);
      }
    });
    ws.on('close', () => {
      for (const hid of mine) detach(hid).catch(() => undefined); // the handle may be gone with its page
    });
  });

  let closed = false;
  return {
    url: `ws://127.0.0.1:${wss.address().port}`,
    room,
    /** Detaches what is left, destroys the room and the session; a second call does nothing. */
    async close() {
      if (closed) return;
      closed = true;
      for (const hid of [...handles.keys()]) await detach(hid).catch(() => undefined);
      await new Promise((resolve) => wss.close(resolve));
      await withTimeout(admin.destroy({ room }), RELAY_TIMEOUT_MS, 'room destroy').catch(() => undefined);
      await withTimeout(session.destroy(), RELAY_TIMEOUT_MS, 'session destroy').catch(() => undefined);
      await withTimeout(conn.close(), RELAY_TIMEOUT_MS, 'janode close').catch(() => undefined);
    },
  };
}

/**
 * Page-side code, evaluated in the page (it must not use anything from this module's scope). Defines
 * window.raw: connect(), capture(fps), publish(), subscribe(feed, mode), leave(hid). Times are
 * performance.now() deltas in the page, as in our own figures.
 */
function pageCode(relayUrl) {
  const raw = {};
  window.raw = raw;
  let next = 1;
  const pending = new Map();
  const listeners = new Map();
  const now = () => performance.now();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  raw.connect = (timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(relayUrl);
      raw.ws = ws;
      const t = setTimeout(() => reject(new Error('relay connect timeout')), timeoutMs);
      ws.onopen = () => {
        clearTimeout(t);
        resolve();
      };
      ws.onerror = () => reject(new Error('relay socket error'));
      ws.onmessage = (ev) => {
        const m = JSON.parse(ev.data);
        if (m.id) {
          const p = pending.get(m.id);
          pending.delete(m.id);
          if (p && m.error) p.reject(new Error(m.error));
          else if (p) p.resolve(m);
        } else if (m.ev) listeners.get(m.hid)?.(m);
      };
    });

  const req = (op, body, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      raw.ws.send(JSON.stringify({ id, op, ...body }));
      setTimeout(
        () => pending.delete(id) && reject(new Error(`${op}: no reply in ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
  const trickleFrom = (pc, hid) => {
    pc.onicecandidate = (e) =>
      raw.ws.send(
        JSON.stringify({ op: 'trickle', hid, candidate: e.candidate ? e.candidate.toJSON() : null }),
      );
  };

  /** The capture used by every raw publish, like our page's preview. Returns ms and the track settings. */
  raw.capture = async (fps) => {
    const t0 = now();
    raw.stream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: 640, height: 480, frameRate: fps },
    });
    return { ms: now() - t0, settings: raw.stream.getVideoTracks()[0].getSettings() };
  };

  /** Offer -> joinandconfigure -> answer -> webrtcup (relayed to the page). Resolves { hid, feed, ms, marks }. */
  raw.publish = (timeoutMs = 20_000) =>
    new Promise((resolve, reject) => {
      const t0 = now();
      const hid = `p${next++}`;
      const marks = {};
      const pc = new RTCPeerConnection({ iceServers: [] });
      (raw.pcs ??= new Map()).set(hid, pc);
      const timer = setTimeout(
        () => reject(new Error(`raw publish: no webrtcup in ${timeoutMs} ms`)),
        timeoutMs,
      );
      let feed;
      let up = false;
      const done = () => {
        if (!up || feed === undefined) return;
        clearTimeout(timer);
        resolve({ hid, feed, ms: marks.webrtcup, marks });
      };
      listeners.set(hid, (m) => {
        if (m.ev !== 'webrtcup') return;
        marks.webrtcup = now() - t0;
        up = true;
        done();
      });
      pc.oniceconnectionstatechange = () => {
        if (pc.iceConnectionState === 'connected') marks.ice = now() - t0;
      };
      trickleFrom(pc, hid);
      (async () => {
        for (const track of raw.stream.getTracks()) {
          const tr = pc.addTransceiver(track, { direction: 'sendonly', streams: [raw.stream] });
          // VP8 only, as our SDK's offer (its munging keeps one video codec family).
          if (track.kind === 'video')
            tr.setCodecPreferences(
              RTCRtpReceiver.getCapabilities('video').codecs.filter((c) =>
                /^video\/(VP8|rtx)$/i.test(c.mimeType),
              ),
            );
        }
        await pc.setLocalDescription(await pc.createOffer());
        marks.offer = now() - t0;
        const r = await req('publish', { hid, offer: { type: 'offer', sdp: pc.localDescription.sdp } });
        marks.answer = now() - t0;
        await pc.setRemoteDescription(r.answer);
        feed = r.feed;
        done();
      })().catch((e) => {
        clearTimeout(timer);
        reject(e);
      });
    });

  /**
   * Subscribe -> Janus offer -> answer -> start, trickles; resolves at the first decoded video frame
   * (getStats every 20 ms, as our figure): { hid, ms, marks }. t0 is `t0` if given (the viewer path).
   */
  raw.subscribe = (feed, mode, timeoutMs = 20_000, t0 = now()) =>
    new Promise((resolve, reject) => {
      const hid = `s${next++}`;
      const marks = {};
      let pc = null;
      let failed = null;
      listeners.set(hid, (m) => m.ev === 'webrtcup' && (marks.webrtcup = now() - t0));
      const end = t0 + timeoutMs;
      const poll = async () => {
        if (failed) return reject(failed);
        if (pc) {
          let frames = 0;
          (await pc.getStats()).forEach((s) => {
            if (s.type === 'inbound-rtp' && s.kind === 'video') {
              frames += s.framesDecoded || 0;
              if (s.packetsReceived && marks.firstPacket === undefined) marks.firstPacket = now() - t0;
              // PLIs this subscriber itself sent before its first frame (Chromium asks when it cannot decode).
              marks.ownPli = s.pliCount || 0;
            }
          });
          if (frames > 0) return resolve({ hid, ms: now() - t0, marks });
        }
        if (now() > end) return reject(new Error(`raw subscribe: no frame in ${timeoutMs} ms`));
        setTimeout(poll, 20);
      };
      poll();
      (async () => {
        const r = await req('subscribe', { hid, feed, kf: mode });
        marks.offer = now() - t0;
        const p = new RTCPeerConnection({ iceServers: [] });
        (raw.pcs ??= new Map()).set(hid, p);
        trickleFrom(p, hid);
        p.oniceconnectionstatechange = () => {
          if (p.iceConnectionState === 'connected') marks.ice = now() - t0;
        };
        const v = document.createElement('video');
        v.muted = true;
        v.autoplay = true;
        document.body.appendChild(v);
        (raw.videos ??= new Map()).set(hid, v);
        p.ontrack = (ev) => {
          if (!v.srcObject) v.srcObject = new MediaStream();
          v.srcObject.addTrack(ev.track);
        };
        await p.setRemoteDescription(r.offer);
        await p.setLocalDescription(await p.createAnswer());
        pc = p;
        await req('start', { hid, answer: { type: 'answer', sdp: p.localDescription.sdp } });
        marks.started = now() - t0;
      })().catch((e) => (failed = e));
    });

  /** Ends a publish or a subscription: the handle is detached, the PeerConnection closed. */
  raw.leave = async (hid) => {
    await req('leave', { hid });
    raw.pcs?.get(hid)?.close();
    raw.pcs?.delete(hid);
    const v = raw.videos?.get(hid);
    if (v) {
      v.srcObject = null;
      v.remove();
      raw.videos.delete(hid);
    }
    listeners.delete(hid);
  };

  /** The video codec a publish sends, from getStats (to check it is VP8 like ours). */
  raw.sentCodec = async (hid) => {
    const stats = await raw.pcs.get(hid).getStats();
    let codec = '';
    stats.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && s.codecId)
        codec = stats.get(s.codecId)?.mimeType;
    });
    return codec;
  };
  /** A publish's sender counters: PLIs/FIRs received and keyframes encoded so far. */
  raw.pubCounters = async (hid) => {
    const c = { pli: 0, fir: 0, keyframes: 0 };
    (await raw.pcs.get(hid).getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        c.pli += s.pliCount || 0;
        c.fir += s.firCount || 0;
        c.keyframes += s.keyFramesEncoded || 0;
      }
    });
    return c;
  };
  raw.sleep = sleep;
}

/** Loads the raw page code into a page (already on an http://127.0.0.1 origin) and connects it. */
async function rawPage(page, relayUrl) {
  await page.evaluate(pageCode, relayUrl);
  await page.evaluate(() => window.raw.connect());
  return page;
}

module.exports = { startRawRelay, rawPage, pageCode };
