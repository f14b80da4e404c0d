/**
 * The ICE candidates written in an SDP, as CandidateInfoPush `infos` (`{candidate, sdpMid, sdpMLineIndex}`
 * per `a=candidate` line, with the mid and index of its m-section). Janus half-trickles: its candidates
 * are in its answer, and the original SDK still waits for them as a push before it sends its own.
 */
export interface SdpCandidate {
  candidate: string;
  sdpMid: string;
  sdpMLineIndex: number;
}

export function sdpCandidates(sdp: string): SdpCandidate[] {
  const out: SdpCandidate[] = [];
  let index = -1;
  let mid = '';
  const pending: string[] = [];
  const flush = () => {
    for (const c of pending.splice(0)) out.push({ candidate: c, sdpMid: mid, sdpMLineIndex: index });
  };
  for (const raw of sdp.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('m=')) {
      flush();
      index++;
      mid = String(index);
    } else if (index >= 0 && line.startsWith('a=mid:')) mid = line.slice(6);
    else if (index >= 0 && line.startsWith('a=candidate:')) pending.push(line.slice(2));
  }
  flush();
  return out;
}
