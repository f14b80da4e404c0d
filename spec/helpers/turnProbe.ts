/**
 * What a page's peer connection actually uses: the selected ICE candidate pair's local side (host, srflx,
 * relay; for relay, how the browser reaches TURN: udp, tcp, tls) and the connection's ICE policy.
 */
import type { Page } from 'playwright-core';

export interface PathProbe {
  localType: string;
  relayProtocol: string;
  policy: string;
}

/** `which`: 'publishers' or 'players' of window.zg's media plane; '' when there is no pair yet. */
export async function selectedPath(
  page: Page,
  which: 'publishers' | 'players',
  streamId: string,
): Promise<PathProbe> {
  return page.evaluate(
    async ({ which, streamId }) => {
      const w = window as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const pc: RTCPeerConnection | null = w.zg.engine.media[which].get(streamId)?.session.pc ?? null;
      const r = { localType: '', relayProtocol: '', policy: '' };
      if (!pc) return r;
      r.policy = pc.getConfiguration().iceTransportPolicy ?? '';
      const stats = await pc.getStats();
      let pairId = '';
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      stats.forEach((s: any) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const pair: any = pairId ? stats.get(pairId) : null;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const local: any = pair ? stats.get(pair.localCandidateId) : null;
      if (local) {
        r.localType = local.candidateType ?? '';
        r.relayProtocol = local.relayProtocol ?? '';
      }
      return r;
    },
    { which, streamId },
  );
}

/** The SPKI hash the server logged for its self-signed TURN certificate (see src/server/turn/tlsCert.ts). */
export function loggedSpki(serverOutput: string): string {
  const m = /"spki":"([A-Za-z0-9+/=]{44})"/.exec(serverOutput);
  if (!m) throw new Error(`the server logged no self-signed TURN certificate:\n${serverOutput.slice(-2000)}`);
  return m[1]!;
}
