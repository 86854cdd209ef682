// The report's script (tools/teach/html_report.cc inlines it after uPlot): draws the counter
// plots from the page's JSON block, the tree view that opens on click, the search by page,
// and the event-log filter. Reads only the page; loads nothing.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function compact(v) {
    if (v === null || v === undefined) return '';
    var a = Math.abs(v);
    if (a >= 1e9) return +(v / 1e9).toPrecision(4) + 'G';
    if (a >= 1e6) return +(v / 1e6).toPrecision(4) + 'M';
    if (a >= 1e4) return +(v / 1e3).toPrecision(4) + 'k';
    return String(+v.toPrecision(6));
  }

  // The top of a y axis: the smallest of 2, 4, 6, 8 or 10 times a power of ten at or above
  // hi (1 for hi <= 1), so that the axis's three ticks 0, top/2 and top are round.
  function niceTop(hi) {
    if (!(hi > 1)) return 1;
    var mag = Math.pow(10, Math.floor(Math.log10(hi)));
    var m = [1, 2, 4, 6, 8, 10];
    for (var i = 0; i < m.length; i++) if (m[i] * mag >= hi) return m[i] * mag;
    return 10 * mag;
  }

  // ---- plots: one uPlot per series, cursors and zoom kept in step ----
  var charts = [];
  function plotWidth(box) {
    return Math.max(280, Math.min(box.clientWidth || 800, 1300) - 4);
  }
  function drawPlots() {
    var p = data.plot;
    if (!p || !p.series.length || typeof uPlot === 'undefined') {
      document.getElementById('plots-counters').textContent = '(no counter changed during the run)';
      return;
    }
    var x0 = 0, x1 = p.end;
    var pad = Math.max((x1 - x0) * 0.02, 1e-6);
    var syncing = false;
    p.series.forEach(function (s) {
      var box = document.getElementById(s.knob ? 'plots-knobs' : 'plots-counters');
      var opts = {
        width: plotWidth(box),
        height: 120,
        title: s.name,
        cursor: {sync: {key: 'ksm'}, drag: {x: true, y: false}},
        scales: {x: {time: false, range: [x0, x1 + pad]},
                 y: {range: function (u, lo, hi) { return [Math.min(0, lo), niceTop(hi)]; }}},
        axes: [{values: function (u, ticks) { return ticks.map(compact); }},
               {size: 60, values: function (u, ticks) { return ticks.map(compact); },
                splits: function (u) {
                  var top = u.scales.y.max, lo = u.scales.y.min;
                  if (lo < 0) return [lo, 0, top];
                  return top <= 1 ? [0, top] : [0, top / 2, top];
                }}],
        series: [{label: 'time ms', value: function (u, v) { return v === null ? '' : v.toFixed(3); }},
                 {label: s.name, stroke: s.knob ? '#8c564b' : '#1f77b4', width: 1.8,
                  paths: uPlot.paths.stepped({align: 1}),
                  points: {show: s.x.length <= 200},
                  value: function (u, v) { return v === null ? '' : String(v); }}],
        hooks: {setScale: [function (u, key) {
          if (key !== 'x' || syncing) return;
          syncing = true;
          var mn = u.scales.x.min, mx = u.scales.x.max;
          charts.forEach(function (c) { if (c !== u) c.setScale('x', {min: mn, max: mx}); });
          syncing = false;
        }]}
      };
      var div = el('div', 'plot');
      div.setAttribute('data-name', s.name);
      box.appendChild(div);
      charts.push(new uPlot(opts, [s.x, s.y], div));
    });
    if (!document.getElementById('plots-knobs').childNodes.length)
      document.getElementById('plots-knobs').textContent = '(no knob changed during the run)';
    window.addEventListener('resize', function () {
      charts.forEach(function (c) { c.setSize({width: plotWidth(c.root.parentNode), height: 120}); });
    });
  }

  // ---- tree view: top levels of each red-black tree, children built on first click ----
  var snaps = data.snapshots || [];
  var current = null;

  function nodeItem(node, side) {
    var li = el('li');
    var kids = [];
    if (node.k) {
      if (node.k[0]) kids.push({n: node.k[0], side: 'L'});
      if (node.k[1]) kids.push({n: node.k[1], side: 'R'});
    }
    var below = node.n - 1 - (node.k ? ((node.k[0] ? node.k[0].n : 0) + (node.k[1] ? node.k[1].n : 0)) : 0);
    var hasKids = kids.length || (node.d && node.d.length) || below > 0;
    var tog = el('span', 'tog', hasKids ? '\u25b8' : '\u00b7');
    li.appendChild(tog);
    if (side) li.appendChild(el('span', 'lr', side + ' '));
    var label = el('span', 'lbl', node.t || '');
    li.appendChild(label);
    if (node.n > 1) li.appendChild(el('span', 'lr', ' (' + node.n + ' nodes in subtree)'));
    if (node.id !== undefined) li.setAttribute('data-id', node.id);
    li._node = node;
    li._kids = kids;
    li._below = below;
    if (hasKids) {
      tog.addEventListener('click', function () { toggle(li); });
      label.addEventListener('click', function () { toggle(li); });
    }
    return li;
  }

  function build(li) {
    if (li._ul) return li._ul;
    var ul = el('ul');
    var node = li._node;
    (node.d || []).forEach(function (dup) {
      var d = el('li', dup.id !== undefined ? 'dup' : 'more');
      d.appendChild(el('span', 'tog', '\u00b7'));
      d.appendChild(el('span', 'lbl', dup.t));
      if (dup.id !== undefined) d.setAttribute('data-id', dup.id);
      ul.appendChild(d);
    });
    li._kids.forEach(function (k) { ul.appendChild(nodeItem(k.n, k.side)); });
    if (li._below > 0)
      ul.appendChild(el('li', 'more', '\u2026 ' + li._below + ' nodes deeper (levels not kept)'));
    li.appendChild(ul);
    li._ul = ul;
    return ul;
  }

  function toggle(li, open) {
    var ul = build(li);
    var show = open === undefined ? ul.style.display === 'none' || !li._open : open;
    ul.style.display = show ? '' : 'none';
    li._open = show;
    li.firstChild.textContent = show ? '\u25be' : '\u25b8';
  }

  function drawTrees(i) {
    current = snaps[i];
    document.querySelectorAll('details.snap').forEach(function (d) {
      d.open = d.id === 'snap-' + i;
    });
    ['stable', 'unstable'].forEach(function (kind) {
      var box = document.getElementById('view-' + kind);
      box.textContent = '';
      current[kind].forEach(function (tree, nid) {
        box.appendChild(el('div', '', 'root_' + kind + '_tree[' + nid + ']: ' + tree.nodes +
                           ' nodes, depth ' + tree.depth));
        var ul = el('ul');
        if (tree.view) ul.appendChild(nodeItem(tree.view, ''));
        else ul.appendChild(el('li', 'more', '(empty)'));
        box.appendChild(ul);
      });
    });
    document.getElementById('search-result').textContent = '';
  }

  // The path of view nodes down to stable node `id` (a dup: its chain, then the dup).
  function findPath(node, id, path) {
    if (!node) return null;
    path.push(node);
    if (node.id === id) return path;
    if ((node.d || []).some(function (d) { return d.id === id; })) return path;
    if (node.k) {
      for (var j = 0; j < 2; j++) {
        var r = findPath(node.k[j], id, path);
        if (r) return r;
      }
    }
    path.pop();
    return null;
  }

  function reveal(id) {
    var box = document.getElementById('view-stable');
    var roots = box.querySelectorAll(':scope > ul > li');
    for (var t = 0; t < current.stable.length; t++) {
      var path = findPath(current.stable[t].view, id, []);
      if (!path) continue;
      var li = roots[t];
      for (var p = 1; p < path.length; p++) {
        toggle(li, true);
        var next = null;
        for (var c = li._ul.firstChild; c; c = c.nextSibling) if (c._node === path[p]) next = c;
        li = next;
      }
      if (li._node.id !== id) {
        toggle(li, true);
        li = li._ul.querySelector('li[data-id="' + id + '"]') || li;
      }
      box.querySelectorAll('.hit').forEach(function (h) { h.classList.remove('hit'); });
      li.classList.add('hit');
      li.scrollIntoView({block: 'nearest'});
      return true;
    }
    return false;
  }

  // Pages of `index` that map to stable node `id`: [count, first few names].
  function sharersOf(id) {
    var count = 0, names = [];
    Object.keys(current.index).forEach(function (key) {
      var f = current.index[key];
      for (var r = 0; r < f.length; r += 4) {
        var start = f[r], len = f[r + 1], n0 = f[r + 2], dn = f[r + 3];
        if (dn === 0) {
          if (n0 !== id) continue;
          for (var k = 0; k < len; k++) { count++; if (names.length < 6) names.push(key + '[' + (start + k) + ']'); }
        } else if ((id - n0) % dn === 0 && (id - n0) / dn >= 0 && (id - n0) / dn < len) {
          count++;
          if (names.length < 6) names.push(key + '[' + (start + (id - n0) / dn) + ']');
        }
      }
    });
    return [count, names];
  }

  function search(q) {
    var out = document.getElementById('search-result');
    var m = /^\s*([^:\s]+):([^\[\s]+)\[(\d+)\]\s*$/.exec(q);
    if (!q.trim()) { out.textContent = ''; return; }
    if (!m) { out.textContent = 'write a page as proc:region[index], e.g. a:heap[3]'; return; }
    if (!current.index) { out.textContent = current.index_note; return; }
    var key = m[1] + ':' + m[2], i = +m[3];
    var f = current.index[key] || [];
    for (var r = 0; r < f.length; r += 4) {
      if (i >= f[r] && i < f[r] + f[r + 1]) {
        var id = f[r + 2] + (i - f[r]) * f[r + 3];
        var sh = sharersOf(id);
        var shown = reveal(id);
        out.textContent = key + '[' + i + '] is in the stable tree: stable node ' + id +
            ', shared by ' + sh[0] + ' pages (' + sh[1].join(', ') + (sh[0] > sh[1].length ? ', \u2026' : '') + ')' +
            (shown ? '; highlighted below' : '; deeper than the levels kept');
        out.setAttribute('data-node', id);
        return;
      }
    }
    var u = (current.unstable_index || {})[key] || [];
    for (var s = 0; s < u.length; s += 2) {
      if (i >= u[s] && i < u[s] + u[s + 1]) {
        out.textContent = key + '[' + i + '] is in the unstable tree (scanned this pass, no match yet)';
        out.setAttribute('data-node', 'unstable');
        return;
      }
    }
    out.textContent = key + '[' + i + '] is in neither tree at this snapshot (not scanned yet, ' +
        'its content changed since the last pass, or not mergeable)';
    out.setAttribute('data-node', 'none');
  }

  function setupTrees() {
    var sel = document.getElementById('tree-snap');
    if (!sel || !snaps.length) return;
    snaps.forEach(function (s, i) {
      var o = el('option', '', s.title);
      o.value = i;
      sel.appendChild(o);
    });
    sel.value = snaps.length - 1;
    sel.addEventListener('change', function () { drawTrees(+sel.value); });
    var input = document.getElementById('tree-search');
    input.addEventListener('input', function () { search(input.value); });
    drawTrees(snaps.length - 1);
  }

  // ---- event log filter ----
  function setupFilter() {
    var f = document.getElementById('filter');
    var rows = document.querySelectorAll('#log tbody tr');
    var count = document.getElementById('count');
    var hay = [];
    for (var i = 0; i < rows.length; i++)
      hay.push(('pass ' + rows[i].getAttribute('data-pass') + ' ' + rows[i].textContent).toLowerCase());
    function apply() {
      var q = f.value.toLowerCase().trim(), n = 0;
      for (var i = 0; i < rows.length; i++) {
        var show = !q || hay[i].indexOf(q) >= 0;
        rows[i].style.display = show ? '' : 'none';
        if (show) n++;
      }
      count.textContent = n + ' of ' + rows.length + ' rows';
    }
    f.addEventListener('input', apply);
    apply();
  }

  setupFilter();
  setupTrees();
  drawPlots();
})();
