/** Raw HTTP over `net`: request lines no HTTP client would send. */
import { connect, type Socket } from 'node:net';

export type RawHttpOutcome =
  { kind: 'status'; line: string } | { kind: 'close'; bytes: string } | { kind: 'timeout'; bytes: string };

/** Writes `request` and reads until the first line of the answer, the close, or `ms`. */
export function rawRequest(
  port: number,
  request: Buffer,
  ms = 2000,
  localAddress?: string,
): Promise<RawHttpOutcome> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    let done = false;
    const sock: Socket = connect({ port, host: '127.0.0.1', localAddress });
    const finish = (o: RawHttpOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      sock.destroy();
      resolve(o);
    };
    const t = setTimeout(() => finish({ kind: 'timeout', bytes: got.toString('latin1').slice(0, 200) }), ms);
    sock.on('connect', () => sock.write(request));
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const eol = got.indexOf('\r\n');
      if (eol >= 0) finish({ kind: 'status', line: got.subarray(0, eol).toString('latin1') });
    });
    sock.on('error', () => finish({ kind: 'close', bytes: got.toString('latin1').slice(0, 200) }));
    sock.on('close', () => finish({ kind: 'close', bytes: got.toString('latin1').slice(0, 200) }));
  });
}

export const STATUS_LINE = /^HTTP\/1\.[01] [1-5]\d\d( |$)/;

/** A request line and headers; `\r\n\r\n` ends it so the server never waits for more. */
export function buildRequest(method: string, target: string, version: string, headers: string[]): Buffer {
  const head = [`${method} ${target}${version ? ` ${version}` : ''}`, ...headers].join('\r\n');
  return Buffer.from(`${head}\r\n\r\n`, 'utf8');
}
