/**
 * The werift PeerConnection settings every bridge peer shares: ICE on the configured addresses and UDP
 * port range, IPv4 only (as Janus), no header extensions (the bridge strips them: the page negotiated its
 * own ids and the bridge does no congestion control), and the STUN/TURN servers of the config only.
 *
 * werift contacts a public STUN server unless told otherwise: its PeerConnection defaults to
 * `stun:stun.l.google.com:19302`, and its ICE agent falls back to the same address when the given
 * servers name no STUN server (ice.ts DEFAULT_STUN_SERVER), and waits for it (up to 5 s) before
 * `setLocalDescription` resolves. `noPublicStun` takes it off each ICE agent before it gathers.
 */
import { RTCPeerConnection, RTCRtpCodecParameters, type PeerConfig } from 'werift';
import type { BridgeWorkerConfig } from './ipc';
import type { SdpCodec } from './sdpCodecs';

export function peerConfig(cfg: BridgeWorkerConfig, codecs: PeerConfig['codecs']): Partial<PeerConfig> {
  return {
    codecs,
    headerExtensions: { audio: [], video: [] },
    iceServers: cfg.iceServers,
    icePortRange: cfg.portRange,
    iceUseIpv6: false,
    // Given addresses: those and nothing else. werift's own list (every non-internal IPv4 address, used
    // only for gathering) is turned off, or a loopback address given here would come with the host's
    // other addresses too.
    ...(cfg.ips.length
      ? {
          iceUseIpv4: false,
          iceInterfaceAddresses: { udp4: cfg.ips[0] },
          iceAdditionalHostAddresses: cfg.ips,
        }
      : { iceUseIpv4: true }),
    bundlePolicy: 'max-bundle',
  };
}

/** After setRemoteDescription (the ICE agents exist, none has gathered yet): no STUN unless configured. */
export function noPublicStun(pc: RTCPeerConnection, cfg: BridgeWorkerConfig): void {
  const stunGiven = cfg.iceServers.some((s) => /^stuns?:/.test(s.urls));
  if (stunGiven) return;
  for (const t of pc.iceTransports) (t.connection as { stunServer?: unknown }).stunServer = undefined;
}

const FEEDBACK = {
  video: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
  audio: [],
};

/** A werift codec from an SDP one (its payload type, fmtp and the feedback the bridge handles). */
export function weriftCodec(kind: 'audio' | 'video', c: SdpCodec): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: `${kind}/${c.name === 'OPUS' ? 'opus' : c.name}`,
    clockRate: c.clockRate,
    ...(c.channels ? { channels: c.channels } : {}),
    payloadType: c.pt,
    rtcpFeedback: FEEDBACK[kind],
    ...(c.fmtp ? { parameters: c.fmtp } : {}),
  });
}

/**
 * The answer with `a=setup:passive`: the bridge is the DTLS server and the page (or Janus) starts the
 * handshake the moment ICE is up. werift answers `active` by default, and as a DTLS client it waits a
 * fixed 100 ms before its first flight (werift transport/dtls.ts start()): that cost every bridged page
 * 100-180 ms before its first frame.
 */
export function dtlsServerAnswer(sdp: string): string {
  return sdp.replace(/^a=setup:active\r?$/gm, (l) => l.replace('active', 'passive'));
}
