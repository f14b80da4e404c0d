/* global TextEncoder, URLSearchParams, location, crypto */
/*
 * The operator page (/admin): signs every admin API call in the browser with WebCrypto (the scheme of
 * docs/admin.md), polls the overview and the lists, draws the last hour of users and streams, and kicks,
 * closes and ends from buttons. Plain script, no build step, no inline code (the page's CSP allows only
 * this file). Every value from the server reaches the page as text (textContent), never as markup: room
 * ids and nick names are chosen by pages.
 *
 * ?every=<ms> sets the refresh period (default 2000, at least 200).
 */
(function () {
  'use strict';
  var SCHEME = 'ZEGO-ADMIN-HMAC-SHA256';
  var PREFIX = '/admin/api/';
  var enc = new TextEncoder();
  var params = new URLSearchParams(location.search);
  var every = Math.max(200, Number(params.get('every')) || 2000);
  var $ = function (id) {
    return document.getElementById(id);
  };

  /** The connection: appid, the HMAC key (not extractable), the selected room, the poll timer. */
  var conn = null;

  function hex(buf) {
    var b = new Uint8Array(buf);
    var out = '';
    for (var i = 0; i < b.length; i++) out += (b[i] < 16 ? '0' : '') + b[i].toString(16);
    return out;
  }

  function nonce() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return hex(b.buffer);
  }

  /** One signed call; resolves with `data`, rejects with an Error carrying the API's error name. */
  async function call(route, body) {
    var c = conn;
    if (!c) throw new Error('not connected');
    var text = JSON.stringify(body || {});
    var target = PREFIX + route;
    var ts = Math.floor(Date.now() / 1000);
    var n = nonce();
    var bodyHash = hex(await crypto.subtle.digest('SHA-256', enc.encode(text)));
    var canonical = [SCHEME, 'POST', target, String(c.appid), String(ts), n, bodyHash].join('\n');
    var sig = hex(await crypto.subtle.sign('HMAC', c.key, enc.encode(canonical)));
    var res = await fetch(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-zego-appid': String(c.appid),
        'x-zego-timestamp': String(ts),
        'x-zego-nonce': n,
        'x-zego-signature': sig,
      },
      body: text,
      cache: 'no-store',
      credentials: 'omit',
    });
    var answer;
    try {
      answer = await res.json();
    } catch {
      throw new Error('HTTP ' + res.status);
    }
    if (answer.code !== 0) {
      var err = new Error((answer.error || 'error') + ': ' + (answer.message || ''));
      err.name = answer.error || 'error';
      throw err;
    }
    return answer.data;
  }

  function status(text, isError) {
    var s = $('status');
    s.textContent = text;
    s.className = isError ? 'error' : '';
  }

  function cell(row, value, cls) {
    var td = document.createElement('td');
    td.textContent = value === undefined || value === null ? '' : String(value);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  function button(td, label, danger, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    if (danger) b.className = 'danger';
    b.addEventListener('click', onClick);
    td.appendChild(b);
    return b;
  }

  /** Replaces a table's rows; `fill(row, item)` writes one. */
  function rows(tableId, items, fill) {
    var body = $(tableId).tBodies[0];
    var fresh = document.createElement('tbody');
    items.forEach(function (item) {
      var tr = document.createElement('tr');
      fill(tr, item);
      fresh.appendChild(tr);
    });
    body.parentNode.replaceChild(fresh, body);
  }

  /** The last hour: one polyline per series, scaled to the larger maximum. */
  function chart(samples) {
    var w = 720;
    var h = 140;
    var pad = 6;
    var hour = 3600 * 1000;
    var end = samples.length ? samples[samples.length - 1].t : Date.now();
    var max = 1;
    samples.forEach(function (s) {
      max = Math.max(max, s.users, s.streams);
    });
    var pts = function (key) {
      return samples
        .map(function (s) {
          var x = pad + ((w - 2 * pad) * (hour - (end - s.t))) / hour;
          var y = h - pad - ((h - 2 * pad) * s[key]) / max;
          return x.toFixed(1) + ',' + y.toFixed(1);
        })
        .join(' ');
    };
    $('chart-users').setAttribute('points', pts('users'));
    $('chart-streams').setAttribute('points', pts('streams'));
    $('chart-max').textContent = String(max);
  }

  async function act(what, route, body, confirmText) {
    if (confirmText && !window.confirm(confirmText)) return;
    try {
      await call(route, body);
      status(what + ': done');
      await refresh();
    } catch (e) {
      status(what + ': ' + e.message, true);
    }
  }

  function showUsers(roomId) {
    if (!conn) return;
    conn.room = roomId;
    $('room-users-name').textContent = roomId;
    $('room-users').hidden = false;
    void refresh();
  }

  async function refresh() {
    var c = conn;
    if (!c) return;
    var o = await call('overview');
    var rooms = await call('list-rooms', { limit: 1000 });
    var streams = await call('list-streams', { limit: 1000 });
    var users = null;
    if (c.room !== null) {
      try {
        users = await call('list-users', { roomId: c.room, limit: 1000 });
      } catch (e) {
        if (e.name !== 'room_not_found') throw e;
      }
    }
    if (conn !== c) return;
    $('count-rooms').textContent = String(o.rooms);
    $('count-users').textContent = String(o.users);
    $('count-streams').textContent = String(o.streams);
    $('count-tasks').textContent = String(o.tasks.length);
    chart(o.samples);
    rows('nodes', o.nodes, function (tr, n) {
      cell(tr, n.node);
      cell(tr, n.uptimeS, 'n');
      cell(tr, n.janus);
      cell(tr, n.rooms, 'n');
      cell(tr, n.users, 'n');
      cell(tr, n.streams, 'n');
    });
    rows('rooms', rooms.rooms, function (tr, r) {
      tr.dataset.room = r.roomId;
      cell(tr, r.roomId);
      cell(tr, r.users, 'n');
      cell(tr, r.streams, 'n');
      var td = cell(tr, '');
      button(td, 'Users', false, function () {
        showUsers(r.roomId);
      });
      button(td, 'Close', true, function () {
        void act(
          'close ' + r.roomId,
          'close-room',
          { roomId: r.roomId },
          'Close room ' + r.roomId + ' and kick everyone?',
        );
      });
    });
    if (c.room !== null && users === null) {
      $('room-users').hidden = true;
      c.room = null;
    }
    if (users !== null)
      rows('users', users.users, function (tr, u) {
        tr.dataset.user = u.idName;
        cell(tr, u.idName);
        cell(tr, u.nickName);
        cell(tr, u.role, 'n');
        cell(tr, new Date(u.loginTime).toLocaleTimeString());
        button(cell(tr, ''), 'Kick', true, function () {
          void act(
            'kick ' + u.idName,
            'kick-user',
            { roomId: c.room, idName: u.idName },
            'Kick ' + u.idName + '?',
          );
        });
      });
    rows('streams', streams.streams, function (tr, s) {
      tr.dataset.stream = s.streamId;
      cell(tr, s.streamId);
      cell(tr, s.roomId);
      cell(tr, s.idName);
      button(cell(tr, ''), 'End', true, function () {
        void act(
          'end ' + s.streamId,
          'end-stream',
          { streamId: s.streamId },
          'End stream ' + s.streamId + '?',
        );
      });
    });
    rows('tasks', o.tasks, function (tr, t) {
      cell(tr, t.kind);
      cell(tr, t.roomId);
      cell(tr, t.streamId);
      cell(tr, t.owner);
      cell(tr, t.detail);
      cell(tr, t.live ? 'yes' : 'no');
    });
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  }

  /** Polls one refresh at a time: a slow answer delays the next, never piles them up. */
  function poll() {
    var c = conn;
    if (!c) return;
    refresh().then(
      function () {
        if (conn === c) c.timer = setTimeout(poll, every);
      },
      function (e) {
        if (conn !== c) return;
        status(e.message, true);
        // A refused secret stops the polling; anything else (a restart, a network blip) is retried.
        if (/^(bad_signature|unknown_app|missing_auth)/.test(e.message)) disconnect(false);
        else c.timer = setTimeout(poll, every);
      },
    );
  }

  function disconnect(clearStatus) {
    if (conn && conn.timer) clearTimeout(conn.timer);
    conn = null;
    $('view').hidden = true;
    $('disconnect').hidden = true;
    $('connect').hidden = false;
    if (clearStatus) status('Disconnected.');
  }

  $('connect-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var appid = Number($('appid').value.trim());
    var secret = $('secret').value;
    if (!Number.isInteger(appid) || appid <= 0) return status('appid must be a positive integer', true);
    if (!window.crypto || !crypto.subtle)
      return status(
        'this page needs a secure context (HTTPS, or the server on localhost) for WebCrypto',
        true,
      );
    crypto.subtle
      .importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
      .then(function (key) {
        disconnect(false);
        conn = { appid: appid, key: key, room: null, timer: null };
        $('secret').value = '';
        $('view').hidden = false;
        $('disconnect').hidden = false;
        $('connect').hidden = true;
        status('Connected to app ' + appid + '.');
        poll();
      });
  });
  $('disconnect').addEventListener('click', function () {
    disconnect(true);
  });
})();
