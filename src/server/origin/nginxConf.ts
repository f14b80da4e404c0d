/**
 * The nginx configuration of the embedded origin (one run): the RTMP module takes the streams our ffmpeg
 * children publish (from 127.0.0.1 only) and serves them to RTMP players, writes HLS (1 s fragments, a
 * short playlist), and the HTTP server serves the HLS files and passes `/live/<name>.flv` to the HTTP-FLV
 * hub (origin/flvMain.ts, its own process: nginx's RTMP module has no HTTP-FLV). One worker: nginx-rtmp
 * shares live streams only within a worker.
 *
 * Single process (`master_process off`): nginx's workers do not die with their master, so with a master
 * a SIGKILLed server would leave orphan workers holding the ports; one process dies with the server like
 * every other child (process/children.ts, PR_SET_PDEATHSIG). nginx calls this mode a development one;
 * for an origin embedded as a child it is the one that cleans up. A large deployment runs its own nginx.
 *
 * Everything lives in the run's own directory (prefix, pid, temp paths, HLS), never /etc/nginx.
 */
import { join } from 'node:path';

export interface NginxPorts {
  /** Interface the public ports bind to (the server's host). */
  bind: string;
  rtmp: number;
  http: number;
  /** The HTTP-FLV hub on 127.0.0.1. */
  flv: number;
}

/** Where Debian's libnginx-mod-rtmp puts the module. */
export const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export function nginxConf(
  dir: string,
  p: NginxPorts,
  o: { hlsFragmentS: number; hlsPlaylistS: number },
): string {
  const d = (sub: string) => JSON.stringify(join(dir, sub));
  const bind = p.bind.includes(':') ? `[${p.bind}]` : p.bind;
  return `load_module ${RTMP_MODULE};
daemon off;
master_process off;
pid ${d('nginx.pid')};
error_log stderr warn;
events { worker_connections 4096; }
rtmp {
  server {
    listen ${bind}:${p.rtmp};
    chunk_size 4096;
    application live {
      live on;
      # Only our own ffmpeg children publish; anyone may play.
      allow publish 127.0.0.1;
      deny publish all;
      allow play all;
      wait_key on;
      wait_video on;
      hls on;
      hls_path ${d('hls')};
      hls_nested on;
      hls_fragment ${o.hlsFragmentS}s;
      hls_playlist_length ${o.hlsPlaylistS}s;
      hls_cleanup on;
    }
  }
}
http {
  access_log off;
  client_body_temp_path ${d('tmp/body')};
  proxy_temp_path ${d('tmp/proxy')};
  fastcgi_temp_path ${d('tmp/fastcgi')};
  uwsgi_temp_path ${d('tmp/uwsgi')};
  scgi_temp_path ${d('tmp/scgi')};
  server {
    listen ${bind}:${p.http};
    location /hls/ {
      alias ${join(dir, 'hls')}/;
      types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
      add_header Cache-Control no-cache;
      add_header Access-Control-Allow-Origin *;
    }
    location ~ ^/live/[^/]+\\.flv$ {
      proxy_pass http://127.0.0.1:${p.flv};
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_read_timeout 1h;
    }
    location = /origin-health { return 200 "ok"; }
  }
}
`;
}
