import { serverSdp, SERVER_CANDIDATE } from '../../fakes/FakeMedia';
import { mediaHarness, playing } from '../../fakes/mediaHarness';

test('G trickled server candidate for play before MediaDescRsp', async () => {
  const h = await mediaHarness();
  h.ms.offerSdp = serverSdp('offer', false);
  h.ms.pushCandidates = [{ candidate: SERVER_CANDIDATE, sdpMid: '0', sdpMLineIndex: 0 }];
  const { pc } = await playing(h, 's2', { connect: false });
  console.log('G', pc.remoteCandidates.length, h.ms.cmds());
  pc.setIceState('connected');
  await h.platform.advance(0);
  console.log('G states', JSON.stringify(h.mcalls.onPlayStateUpdate));
  await h.platform.advance(5000);
  console.log('G states', JSON.stringify(h.mcalls.onPlayStateUpdate));
});
