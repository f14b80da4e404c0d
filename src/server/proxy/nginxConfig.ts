/**
 * The nginx.conf of the cloud proxy: one public TCP port, split by what the TLS ClientHello offers
 * (docs/deployment.md, "Cloud proxy"). A pure function, so tests read exactly what nginx is given.
 *
 * The split. Both kinds of connection name the same host and port, so the SNI is the same (and absent for
 * an IP literal); what differs is ALPN. Checked on Chromium 156 with a TLS server that logs the
 * ClientHello: a `wss:` WebSocket (and an `https:` page) offers ALPN `http/1.1` (pages also `h2`), a
 * `turns:` TURN client sends no ALPN extension at all. So `ssl_preread` reads the ClientHello without
 * ending TLS and `$ssl_preread_alpn_protocols` picks the route: empty = TURN, anything else = HTTPS.
 *
 * Both routes end TLS in nginx, on internal unix sockets, with the proxy's one certificate:
 * - HTTPS: nginx's http server, plain HTTP/1.1 (WebSocket upgrades included) to the Node server over its
 *   own unix socket (whatever arrives there came through the proxy: the server checks the proxy token on
 *   those sockets only);
 * - TURN: a stream server that relays the TURN bytes to coturn's plain TCP listener. coturn's own TLS
 *   listener is not used: it would need the proxy's certificate, and its certificate serves direct
 *   `turns:` URLs under another name.
 * The public server passes the client's address to both with the PROXY protocol (X-Real-IP for the
 * Node server). It also caps connections per client address, since everything behind it comes from
 * nginx's own address.
 *
 * nginx runs as one process (`master_process off`): the server's children die through the kernel's
 * parent-death signal, which reaches only the process spawned; nginx's workers never watch their master
 * and would keep serving the port after a SIGKILLed master (checked on nginx 1.22). In that mode nginx
 * keeps the user it was started as and ignores `user`: dropping root is done by the spawn (ProxyService).
 */

export interface NginxRun {
  /** The prefix directory: config, pid, temp paths, internal sockets. */
  dir: string;
  /** '' = no load_module line (nginx built with the stream module). */
  streamModule: string;
  listen: { ip: string; port: number }[];
  certFile: string;
  keyFile: string;
  /** The Node server's unix socket for proxied HTTP and WebSockets. */
  nodeSocket: string;
  /** coturn's plain TCP listener. */
  turn: { host: string; port: number } | null;
  workerConnections: number;
  maxConnectionsPerIp: number;
}

const addr = (ip: string, port: number) => `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;

/** The internal sockets of a run (unix domain, inside the prefix directory). */
export function internalSockets(dir: string): { https: string; turn: string } {
  return { https: `${dir}/https.sock`, turn: `${dir}/turn.sock` };
}

export function nginxConfig(r: NginxRun): string {
  const s = internalSockets(r.dir);
  // A session cache per module: nginx refuses one shared zone for both.
  const tls = (cache: string) => [
    `ssl_certificate ${r.certFile};`,
    `ssl_certificate_key ${r.keyFile};`,
    'ssl_protocols TLSv1.2 TLSv1.3;',
    `ssl_session_cache shared:${cache}:4m;`,
  ];
  const lines = [
    r.streamModule ? `load_module ${r.streamModule};` : '',
    'master_process off;',
    `pid ${r.dir}/nginx.pid;`,
    'error_log stderr warn;',
    `worker_rlimit_nofile ${r.workerConnections * 2 + 64};`,
    `events { worker_connections ${r.workerConnections}; }`,
    'stream {',
    // Chromium: wss:/https: offer ALPN (http/1.1, h2), turns: none (file header).
    '  map $ssl_preread_alpn_protocols $zego_route {',
    `    "" unix:${s.turn};`,
    `    default unix:${s.https};`,
    '  }',
    '  limit_conn_zone $binary_remote_addr zone=zego_perip:4m;',
    '  server {',
    ...r.listen.map((l) => `    listen ${addr(l.ip, l.port)} reuseport;`),
    '    ssl_preread on;',
    '    preread_timeout 10s;',
    `    limit_conn zego_perip ${r.maxConnectionsPerIp};`,
    '    proxy_protocol on;',
    '    proxy_connect_timeout 5s;',
    '    proxy_timeout 1h;',
    '    proxy_pass $zego_route;',
    '  }',
    ...(r.turn
      ? [
          '  server {',
          `    listen unix:${s.turn} ssl proxy_protocol;`,
          ...tls('zego_tls_turn').map((t) => `    ${t}`),
          '    proxy_connect_timeout 5s;',
          '    proxy_timeout 1h;',
          `    proxy_pass ${addr(r.turn.host, r.turn.port)};`,
          '  }',
        ]
      : []),
    '}',
    'http {',
    '  access_log off;',
    '  server_tokens off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${r.dir}/tmp/${t};`),
    '  map $http_upgrade $zego_connection { default upgrade; "" close; }',
    `  upstream zego_node { server unix:${r.nodeSocket}; }`,
    '  server {',
    `    listen unix:${s.https} ssl proxy_protocol;`,
    ...tls('zego_tls_https').map((t) => `    ${t}`),
    '    client_max_body_size 64k;',
    '    location / {',
    '      proxy_pass http://zego_node;',
    '      proxy_http_version 1.1;',
    '      proxy_buffering off;',
    '      proxy_set_header Host $http_host;',
    '      proxy_set_header Upgrade $http_upgrade;',
    '      proxy_set_header Connection $zego_connection;',
    '      proxy_set_header X-Real-IP $proxy_protocol_addr;',
    '      proxy_set_header X-Forwarded-For $proxy_protocol_addr;',
    '      proxy_set_header X-Forwarded-Proto https;',
    '      proxy_read_timeout 1h;',
    '      proxy_send_timeout 1h;',
    '    }',
    '  }',
    '}',
  ];
  return lines.filter(Boolean).join('\n') + '\n';
}
