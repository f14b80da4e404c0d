/* global ZegoClient, alert, location, XMLHttpRequest, pageRole, onLoginSuccess */
/* eslint-disable @typescript-eslint/no-unused-vars -- page globals, read by the pages and the test */
/*
 * The shared script of a set of legacy pages, written the way demo pages for jZego-rtc 1.x were
 * written (spec/media/legacyPages.test.ts drives it): at load it prints the SDK version, runs the
 * browser check, turns the sound level delegate on, lists the devices and binds the buttons; every
 * failure is an alert(). Each page sets `pageRole` before it and may define `onLoginSuccess(list)` and
 * `playOption()` after it. Settings come from the query string (a real page hard-codes them).
 */
var query = {};
location.search
  .slice(1)
  .split('&')
  .forEach(function (kv) {
    if (!kv) return;
    var p = kv.split('=');
    query[decodeURIComponent(p[0])] = decodeURIComponent(p[1] || '');
  });

var appid = query.appid * 1;
var server = query.server;
var tokenUrl = query.tokenUrl || '/token';
var roomId = query.room || 'legacy-room';
var idName = query.idName || 'user' + new Date().getTime();
var nickName = query.nickName || idName;
var streamId = query.streamId || idName + '-stream';
var zg;
var loginRoom = false;
var detectResult = null;
var deviceList = null;
var soundLevels = [];
var playing = {};
var logs = [];

function $(id) {
  return document.getElementById(id);
}

function log(text) {
  logs.push(text);
  var line = document.createElement('div');
  line.textContent = text;
  $('log').appendChild(line);
}

log('sdk version: ' + ZegoClient.getCurrentVersion());
$('version').textContent = ZegoClient.getCurrentVersion();

ZegoClient.supportDetection(
  function (result) {
    detectResult = result;
    if (!result.webRtc) {
      alert('This browser does not support WebRTC');
    } else if (!result.videoDecodeType.H264 && !result.videoDecodeType.VP8) {
      alert('This browser can encode neither H.264 nor VP8');
    }
    $('detect').textContent = JSON.stringify(result);
  },
  function (err) {
    alert('browser check failed: ' + err);
  },
);

zg = new ZegoClient();
zg.config({
  appid: appid,
  idName: idName,
  nickName: nickName,
  server: server,
  logLevel: 3,
  remoteLogLevel: 100,
  audienceCreateRoom: true,
});
zg.setUserStateUpdate(true);
zg.setSoundLevelDelegate(true, 1000);

zg.onSoundLevelUpdate = function (list) {
  soundLevels.push({ t: Date.now(), list: list });
  $('levels').textContent = list
    .map(function (i) {
      return i.streamID + ': ' + Math.round(i.soundLevel);
    })
    .join(', ');
};

zg.onPublishStateUpdate = function (type, id, error) {
  if (type == 0) log('publish success ' + id);
  else if (type == 2) log('publish retry ' + id);
  else alert('publish failed: ' + error.code + ' ' + error.msg);
};

zg.onPlayStateUpdate = function (type, id, error) {
  if (type == 0) log('play success ' + id);
  else if (type == 2) log('play retry ' + id);
  else alert('play failed: ' + error.code + ' ' + error.msg);
};

zg.onPlayQualityUpdate = function (id, quality) {
  log('play quality ' + id + ' audio: ' + quality.audioBitrate + ' video: ' + quality.videoBitrate);
};

zg.onStreamUpdated = function (type, details) {
  for (var i = 0; i < details.length; i++) {
    if (type == 0) {
      log('stream added ' + details[i].stream_id);
      if ($('autoPlay').checked) play(details[i].stream_id);
    } else {
      log('stream deleted ' + details[i].stream_id);
      stopPlay(details[i].stream_id);
    }
  }
};

zg.onDisconnect = function (err) {
  alert('disconnected: ' + err.code + ' ' + err.msg);
};

zg.onKickOut = function (err) {
  alert('kicked out: ' + err.msg);
};

function enumDevices() {
  zg.enumDevices(
    function (devices) {
      deviceList = devices;
      var fill = function (sel, list) {
        list.forEach(function (d, i) {
          var o = document.createElement('option');
          o.value = d.deviceId;
          o.textContent = d.label || 'device ' + i;
          $(sel).appendChild(o);
        });
      };
      fill('audioList', devices.microphones);
      fill('videoList', devices.cameras);
    },
    function (err) {
      alert('enumDevices failed: ' + err);
    },
  );
}

function getToken(callback) {
  var xhr = new XMLHttpRequest();
  xhr.open('GET', tokenUrl + '?app_id=' + appid + '&id_name=' + encodeURIComponent(idName));
  xhr.onload = function () {
    if (xhr.status == 200) callback(xhr.responseText);
    else alert('token request failed: ' + xhr.status);
  };
  xhr.onerror = function () {
    alert('token request failed');
  };
  xhr.send();
}

function login() {
  getToken(function (token) {
    zg.login(
      roomId,
      pageRole,
      token,
      function (streamList) {
        loginRoom = true;
        log('login success, streams: ' + streamList.length);
        if (typeof onLoginSuccess == 'function') onLoginSuccess(streamList);
      },
      function (err) {
        alert('login failed: ' + err.code + ' ' + err.msg);
      },
    );
  });
}

function playOption() {
  return {};
}

function play(id) {
  if (playing[id]) return;
  var video = document.createElement('video');
  video.id = 'play-' + id;
  video.autoplay = true;
  video.playsInline = true;
  $('remotes').appendChild(video);
  playing[id] = video;
  if (!zg.startPlayingStream(id, video, null, playOption())) alert('startPlayingStream returned false');
}

function stopPlay(id) {
  if (!playing[id]) return;
  zg.stopPlayingStream(id);
  playing[id].remove();
  delete playing[id];
}

function leave() {
  for (var id in playing) stopPlay(id);
  zg.stopPublishingStream(streamId);
  zg.stopPreview($('preview'));
  zg.logout();
  loginRoom = false;
}

function bindEvents() {
  $('loginBtn').onclick = login;
  $('leaveBtn').onclick = leave;
  $('micBtn').onclick = function () {
    var on = $('micBtn').textContent == 'mute';
    zg.enableMicrophone($('preview'), !on);
    $('micBtn').textContent = on ? 'unmute' : 'mute';
  };
}

enumDevices();
bindEvents();
