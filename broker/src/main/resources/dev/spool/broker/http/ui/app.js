// Spool dashboard: signs in with POST /login, keeps the token in this tab's session storage (never in a URL),
// reads GET /overview every 1.5 s and turns counters into rates. Administrators get create, delete and redrive.
(function () {
  'use strict';
  var REFRESH_MS = 1500;
  var HISTORY = 200; // points kept for the charts: 5 minutes at 1.5 s
  var $ = function (id) { return document.getElementById(id); };
  var timer = null;
  var previous = null;      // the last overview, for rates
  var history = {};         // queue name -> {t: [], push: [], pull: [], ack: [], chart}
  var lags = {};            // 'queue/subscription' -> {t: [], backlog: [], chart}
  var broker = {t: [], push: [], pull: [], ack: [], chart: null};

  function token() { return sessionStorage.getItem('spool.token'); }
  function role() { return Number(sessionStorage.getItem('spool.role')); }
  function isAdmin() { return role() === 1; }

  function api(method, path, body) {
    var headers = {'Authorization': 'Bearer ' + token()};
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; }
    return fetch(path, {method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (r) {
        if (r.status === 401) { signOut('Your session ended; sign in again.'); throw new Error('signed out'); }
        return r.text().then(function (text) {
          var json = text ? JSON.parse(text) : null;
          if (!r.ok) { throw new Error((json && json.code ? json.code + ': ' : '') + (json && json.detail || r.status)); }
          return json;
        });
      });
  }

  function bytes(n) {
    if (n < 0) { return '-'; }
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
  }
  function rate(n) { return n >= 1000 ? (n / 1000).toFixed(1) + 'k' : n.toFixed(n < 10 ? 1 : 0); }
  function duration(s) {
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + m + 'm ' + (s % 60) + 's';
  }
  function push(series, key, value) {
    series[key].push(value);
    if (series[key].length > HISTORY) { series[key].shift(); }
  }

  function chart(el, width, height) {
    return new uPlot({
      width: width, height: height, legend: {show: false}, cursor: {show: false},
      scales: {x: {time: true}},
      axes: [{show: height > 60}, {show: height > 60, size: 50}],
      series: [{}, {stroke: '#1f77b4', label: 'push/s'}, {stroke: '#2ca02c', label: 'pull/s'},
        {stroke: '#ff7f0e', label: 'ack/s'}]
    }, [[], [], [], []], el);
  }

  function row(q) {
    var tr = document.createElement('tr');
    tr.dataset.queue = q.name;
    ['name', 'type', 'depth', 'max_length', 'in_flight', 'waiting_requests', 'dead_letters', 'bytes_on_disk',
      'push', 'pull', 'ack'].forEach(function (c) {
      var td = document.createElement('td');
      td.className = c;
      tr.appendChild(td);
    });
    var spark = document.createElement('td');
    spark.className = 'spark';
    tr.appendChild(spark);
    var actions = document.createElement('td');
    actions.className = 'admin';
    actions.hidden = !isAdmin();
    if (isAdmin()) {
      var redrive = document.createElement('button');
      redrive.textContent = 'Redrive';
      redrive.className = 'redrive';
      redrive.addEventListener('click', function () {
        if (confirm('Move the dead letters of ' + q.name + ' back into it?')) {
          api('POST', '/queues/' + encodeURIComponent(q.name) + '/redrive').then(function (r) {
            $('status').textContent = r.moved + ' dead letters moved back into ' + q.name;
          }, report);
        }
      });
      var del = document.createElement('button');
      del.textContent = 'Delete';
      del.className = 'delete danger';
      del.addEventListener('click', function () {
        if (confirm('Delete queue ' + q.name + ' and every message in it?')) {
          api('DELETE', '/queues/' + encodeURIComponent(q.name)).then(refresh, report);
        }
      });
      actions.appendChild(redrive);
      actions.appendChild(del);
    }
    tr.appendChild(actions);
    history[q.name] = {t: [], push: [], pull: [], ack: [], chart: chart(spark, 160, 36)};
    return tr;
  }

  function lagChart(el) {
    return new uPlot({
      width: 160, height: 36, legend: {show: false}, cursor: {show: false}, scales: {x: {time: true}},
      axes: [{show: false}, {show: false}], series: [{}, {stroke: '#9467bd', label: 'backlog'}]
    }, [[], []], el);
  }

  function subPath(s) {
    return '/queues/' + encodeURIComponent(s.queue) + '/subscriptions/' + encodeURIComponent(s.name);
  }

  function subRow(s, key) {
    var tr = document.createElement('tr');
    tr.dataset.subscription = key;
    ['queue', 'name', 'backlog', 'in_flight', 'oldest', 'paused', 'deliver'].forEach(function (c) {
      var td = document.createElement('td');
      td.className = c;
      tr.appendChild(td);
    });
    var spark = document.createElement('td');
    spark.className = 'spark';
    tr.appendChild(spark);
    var actions = document.createElement('td');
    actions.className = 'admin';
    actions.hidden = !isAdmin();
    if (isAdmin()) {
      var pause = document.createElement('button');
      pause.className = 'pause';
      pause.addEventListener('click', function () {
        var resume = pause.textContent === 'Resume';
        api('POST', subPath(s) + (resume ? '/resume' : '/pause')).then(refresh, report);
      });
      var replay = document.createElement('button');
      replay.textContent = 'Replay';
      replay.className = 'replay';
      replay.addEventListener('click', function () {
        if (confirm('Deliver every message ' + s.queue + ' still holds to ' + s.name + ' again (seek to earliest)?')) {
          api('POST', subPath(s) + '/seek', {start: 'earliest'}).then(refresh, report);
        }
      });
      var del = document.createElement('button');
      del.textContent = 'Delete';
      del.className = 'delete danger';
      del.addEventListener('click', function () {
        if (confirm('Delete subscription ' + s.name + ' of ' + s.queue + '?')) {
          api('DELETE', subPath(s)).then(refresh, report);
        }
      });
      actions.appendChild(pause);
      actions.appendChild(replay);
      actions.appendChild(del);
    }
    tr.appendChild(actions);
    lags[key] = {t: [], backlog: [], chart: lagChart(spark)};
    return tr;
  }

  function renderSubscriptions(o, dt, now) {
    var before = {};
    if (previous && previous.subscriptions) {
      previous.subscriptions.forEach(function (s) { before[s.queue + '/' + s.name] = s; });
    }
    var table = $('subscriptions');
    var tbody = table.querySelector('tbody');
    var seen = {};
    (o.subscriptions || []).forEach(function (s) {
      var key = s.queue + '/' + s.name;
      seen[key] = true;
      var tr = tbody.querySelector('tr[data-subscription="' + CSS.escape(key) + '"]') || tbody.appendChild(subRow(s, key));
      var b = before[key];
      var deliver = b && dt > 0 ? Math.max(0, s.delivered - b.delivered) / dt : 0;
      var cells = {queue: s.queue, name: s.name, backlog: s.backlog, in_flight: s.in_flight,
        oldest: s.backlog > 0 ? duration(Math.round(s.oldest_age_seconds)) : '-', paused: s.paused ? 'yes' : 'no',
        deliver: rate(deliver)};
      Object.keys(cells).forEach(function (c) { tr.querySelector('td.' + c).textContent = cells[c]; });
      var pause = tr.querySelector('button.pause');
      if (pause) { pause.textContent = s.paused ? 'Resume' : 'Pause'; }
      var h = lags[key];
      push(h, 't', now); push(h, 'backlog', s.backlog);
      h.chart.setData([h.t, h.backlog]);
    });
    Array.prototype.slice.call(tbody.querySelectorAll('tr')).forEach(function (tr) {
      if (!seen[tr.dataset.subscription]) { delete lags[tr.dataset.subscription]; tr.remove(); }
    });
    table.hidden = tbody.children.length === 0;
  }

  function render(o) {
    var dt = previous ? (Date.parse(o.time) - Date.parse(previous.time)) / 1000 : 0;
    var before = {};
    if (previous) { previous.queues.forEach(function (q) { before[q.name] = q; }); }
    var tbody = document.querySelector('#queues tbody');
    var seen = {};
    var total = {push: 0, pull: 0, ack: 0};
    var now = Date.parse(o.time) / 1000;
    o.queues.forEach(function (q) {
      seen[q.name] = true;
      var tr = tbody.querySelector('tr[data-queue="' + CSS.escape(q.name) + '"]') || tbody.appendChild(row(q));
      var b = before[q.name];
      var r = {push: 0, pull: 0, ack: 0};
      if (b && dt > 0) {
        r.push = Math.max(0, q.pushed - b.pushed) / dt;
        r.pull = Math.max(0, q.pulled + q.delivered - b.pulled - b.delivered) / dt;
        r.ack = Math.max(0, q.acked - b.acked) / dt;
      }
      total.push += r.push; total.pull += r.pull; total.ack += r.ack;
      var cells = {name: q.name, type: q.type || 'any', depth: q.depth, max_length: q.max_length,
        in_flight: q.in_flight, waiting_requests: q.waiting_requests, dead_letters: q.dead_letters,
        bytes_on_disk: bytes(q.bytes_on_disk), push: rate(r.push), pull: rate(r.pull), ack: rate(r.ack)};
      Object.keys(cells).forEach(function (c) { tr.querySelector('td.' + c).textContent = cells[c]; });
      var h = history[q.name];
      push(h, 't', now); push(h, 'push', r.push); push(h, 'pull', r.pull); push(h, 'ack', r.ack);
      h.chart.setData([h.t, h.push, h.pull, h.ack]);
    });
    Array.prototype.slice.call(tbody.querySelectorAll('tr')).forEach(function (tr) {
      if (!seen[tr.dataset.queue]) { delete history[tr.dataset.queue]; tr.remove(); }
    });
    $('uptime').textContent = duration(o.uptime_seconds);
    $('disk-free').textContent = bytes(o.disk_free_bytes);
    $('push-rate').textContent = rate(total.push);
    $('pull-rate').textContent = rate(total.pull);
    $('ack-rate').textContent = rate(total.ack);
    $('audit-dropped').textContent = o.audit.enabled ? o.audit.dropped : 'off';
    if (o.fsync && previous && previous.fsync && o.fsync.count > previous.fsync.count) {
      var ms = (o.fsync.seconds - previous.fsync.seconds) * 1000 / (o.fsync.count - previous.fsync.count);
      $('fsync').textContent = ms.toFixed(2) + ' ms';
    } else if (!o.fsync) {
      $('fsync').textContent = 'metrics off';
    }
    renderSubscriptions(o, dt, now);
    push(broker, 't', now); push(broker, 'push', total.push); push(broker, 'pull', total.pull); push(broker, 'ack', total.ack);
    broker.chart.setData([broker.t, broker.push, broker.pull, broker.ack]);
    previous = o;
  }

  function report(e) { $('status').textContent = e.message; }

  function refresh() {
    return api('GET', '/overview').then(function (o) { $('status').textContent = ''; render(o); }, function (e) {
      if (e.message !== 'signed out') { report(e); }
    });
  }

  function show() {
    var signedIn = !!token();
    $('sign-in').hidden = signedIn;
    $('dashboard').hidden = !signedIn;
    $('sign-out').hidden = !signedIn;
    $('who').textContent = signedIn ? sessionStorage.getItem('spool.user') + ' (' +
      sessionStorage.getItem('spool.role_name') + ')' : '';
    Array.prototype.slice.call(document.querySelectorAll('.admin')).forEach(function (el) {
      el.hidden = !(signedIn && isAdmin());
    });
    if (signedIn) {
      if (!broker.chart) { broker.chart = chart($('broker-chart'), 420, 110); }
      refresh();
      timer = timer || setInterval(refresh, REFRESH_MS);
    }
  }

  function signOut(message) {
    if (token()) { fetch('/logout', {method: 'POST', headers: {'Authorization': 'Bearer ' + token()}}); }
    sessionStorage.clear();
    clearInterval(timer);
    timer = null;
    previous = null;
    document.querySelector('#queues tbody').textContent = '';
    document.querySelector('#subscriptions tbody').textContent = '';
    $('subscriptions').hidden = true;
    lags = {};
    history = {};
    $('login-error').textContent = message || '';
    show();
  }

  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    fetch('/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({username: $('username').value, password: $('password').value})})
      .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, body: j}; }); })
      .then(function (r) {
        if (!r.ok) { $('login-error').textContent = r.body.detail || 'sign-in failed'; return; }
        sessionStorage.setItem('spool.token', r.body.token);
        sessionStorage.setItem('spool.role', r.body.role);
        sessionStorage.setItem('spool.role_name', r.body.role_name);
        sessionStorage.setItem('spool.user', r.body.username);
        $('password').value = '';
        $('login-error').textContent = '';
        show();
      }, function (e) { $('login-error').textContent = e.message; });
  });

  $('create-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var name = $('new-name').value;
    var options = {};
    if ($('new-type').value) { options.type = $('new-type').value; }
    if ($('new-max').value) { options.max_length = Number($('new-max').value); }
    if (confirm('Create queue ' + name + '?')) {
      api('POST', '/queues/' + encodeURIComponent(name), options).then(function () {
        $('new-name').value = '';
        $('status').textContent = 'queue ' + name + ' created';
        refresh();
      }, report);
    }
  });

  $('sign-out').addEventListener('click', function () { signOut(); });
  show();
}());
