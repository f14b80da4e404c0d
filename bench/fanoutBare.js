/**
 * The reference for the big-room fan-out bench (bench/nodes.js `--users N`): a minimal `ws` server that
 * broadcasts one message to every socket, the floor any server on this machine and this harness can reach.
 * A frame from a socket carrying `zq<round>x` makes it send one push of the same shape and size as our
 * server's push_merge_message for that message (serialised once, sent to every socket; the sender too).
 * Run by the bench with child_process.fork; tells its port over IPC.
 */
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
const APPID = 1234567;

wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    const m = /zq\d+x/.exec(data.toString());
    if (!m) return;
    const now = Date.now();
    const item = {
      bigmsg_id: `${now}-1`,
      id_name: 'sender',
      nick_name: 'sender',
      msg_category: 1,
      msg_type: 1,
      msg_content: m[0],
      send_time: now,
    };
    const body = {
      messages: [{ sub_cmd: 14001, msg_body: JSON.stringify({ room_id: 'bench-fanout', msg_data: [item] }) }],
    };
    // Our push carries each member's own header (user and session ids): the same length here.
    const header = {
      Protocol: 'push',
      cmd: 'push_merge_message',
      appid: APPID,
      seq: 0,
      user_id: 'f-0000',
      session_id: '0'.repeat(32),
      room_id: 'bench-fanout',
    };
    const frame = JSON.stringify({ header, body });
    for (const c of wss.clients) c.send(frame);
  });
});

wss.on('listening', () => process.send({ cmd: 'port', port: wss.address().port }));
process.on('message', (m) => {
  if (m.cmd === 'close') {
    for (const c of wss.clients) c.terminate();
    wss.close(() => process.exit(0));
  }
});
