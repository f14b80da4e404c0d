/**
 * A network namespace of its own for Chromium, inside the media suites' namespace (scripts/netns.sh), so a
 * firewall can be put around the browser alone: the server, Janus (127.0.0.2) and coturn stay outside it.
 *
 * Wiring, all inside 127.0.0.0/8: a veth pair, `SERVER_SIDE_IP` (127.0.1.1) on our end and
 * `BROWSER_IP` (127.0.1.2) on the browser's. Linux treats 127/8 as local and refuses it on other
 * interfaces, so each side gets `route_localnet` and a /32 route to the other in the `local` table
 * (a /32 beats the `local 127.0.0.0/8` route). The browser's namespace has no route to Janus: media
 * reaches the SFU through TURN or not at all. With `blockUdp`, nftables in the browser's namespace drops
 * every UDP datagram in and out (what a hospital or office firewall that allows only TCP does).
 *
 * The namespace lives as long as a `sleep` holder process we start (killed by `close()`, and by the kernel
 * with the test process through setpriv's parent-death signal). Chromium enters it through a wrapper
 * script (`nsenter --net`), given to playwright as the executable.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium } from './browser';

export const SERVER_SIDE_IP = '127.0.1.1';
export const BROWSER_IP = '127.0.1.2';

export interface BrowserNetns {
  /** Runs a command inside the browser's namespace; its stdout. */
  exec(cmd: string, args: string[]): string;
  /** Drops (true) or lets through (false) every UDP datagram of the browser's namespace. */
  blockUdp(on: boolean): void;
  /** Chromium inside the namespace; `extraArgs` are more switches. */
  launch(extraArgs?: string[]): Promise<Browser>;
  close(): void;
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}

let counter = 0;

export async function browserNetns(): Promise<BrowserNetns> {
  for (const tool of ['nsenter', 'ip', 'nft', 'unshare', 'setpriv'])
    if (!['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => existsSync(join(d, tool))))
      throw new Error(
        `${tool} not found: the TURN suites need util-linux, iproute2 and nftables (scripts/debian-packages.txt)`,
      );
  const link = `zb${process.pid % 10000}x${counter++}`;
  const holder: ChildProcess = spawn(
    'setpriv',
    ['--pdeathsig', 'KILL', '--', 'unshare', '--net', 'sleep', '3600'],
    {
      stdio: 'ignore',
    },
  );
  // The holder is in its own namespace once unshare has exec'd sleep.
  const deadline = Date.now() + 5000;
  const pid = holder.pid!;
  const myNs = run('readlink', ['/proc/self/ns/net']).trim();
  for (;;) {
    let ns = '';
    try {
      ns = run('readlink', [`/proc/${pid}/ns/net`]).trim();
    } catch {
      /* not yet */
    }
    if (ns && ns !== myNs) break;
    if (Date.now() > deadline) throw new Error('the browser namespace did not come up within 5 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  const inNs = (cmd: string, args: string[]) => run('nsenter', ['-t', String(pid), '-n', cmd, ...args]);
  run('ip', ['link', 'add', link, 'type', 'veth', 'peer', 'name', `${link}p`]);
  run('ip', ['link', 'set', `${link}p`, 'netns', String(pid)]);
  run('ip', ['addr', 'add', `${SERVER_SIDE_IP}/32`, 'dev', link]);
  run('ip', ['link', 'set', link, 'up']);
  run('sysctl', ['-qw', `net.ipv4.conf.${link}.route_localnet=1`, `net.ipv4.conf.${link}.rp_filter=0`]);
  run('ip', ['route', 'add', `${BROWSER_IP}/32`, 'dev', link, 'table', 'local']);
  inNs('ip', ['link', 'set', 'lo', 'up']);
  inNs('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  inNs('ip', ['addr', 'add', `${BROWSER_IP}/32`, 'dev', `${link}p`]);
  inNs('ip', ['link', 'set', `${link}p`, 'up']);
  inNs('sysctl', ['-qw', `net.ipv4.conf.${link}p.route_localnet=1`, `net.ipv4.conf.${link}p.rp_filter=0`]);
  inNs('ip', ['route', 'add', `${SERVER_SIDE_IP}/32`, 'dev', `${link}p`, 'table', 'local']);
  const dir = mkdtempSync(join(tmpdir(), 'zego-browser-netns-'));
  const wrapper = join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec nsenter -t ${pid} -n ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const browsers: Browser[] = [];
  return {
    exec: inNs,
    blockUdp(on) {
      if (!on) {
        inNs('nft', ['delete table inet zegotest']);
        return;
      }
      inNs('nft', [
        'add table inet zegotest; ' +
          'add chain inet zegotest in { type filter hook input priority 0; policy accept; }; ' +
          'add chain inet zegotest out { type filter hook output priority 0; policy accept; }; ' +
          'add rule inet zegotest in meta l4proto udp counter drop; ' +
          'add rule inet zegotest out meta l4proto udp counter drop',
      ]);
    },
    async launch(extraArgs = []) {
      const b = await launchChromium(
        [
          // The TURN and page host must resolve (Chromium sends TCP/TLS TURN URLs through its resolver,
          // IP literals included): exclude it from the NOTFOUND mapping.
          `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${SERVER_SIDE_IP}`,
          ...extraArgs,
        ],
        ['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
        wrapper,
      );
      browsers.push(b);
      return b;
    },
    close() {
      holder.kill('SIGKILL');
      try {
        run('ip', ['link', 'del', link]);
      } catch {
        /* gone with the namespace */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
