// DOM checks of a `ksmsim report` page, run inside headless Chromium by
// tools/check-report.sh, which appends this script (after `var EXPECTED = [...]`: the
// result document's entries flattened) to a copy of the report. It clicks and types as a
// person would, through the page's own handlers, then writes its verdict into
// <pre id="check-result">: "CHECK-OK ..." or "CHECK-FAIL: ...". With #shot=trees in the
// URL it then hides the sections above the trees, for a screenshot of the opened view.
(function () {
  'use strict';
  var fails = [], notes = [];
  function fail(m) { fails.push(m); }

  // 1. Nothing wider than the window.
  var sw = document.documentElement.scrollWidth, iw = window.innerWidth;
  if (sw > iw + 1) fail('the page is ' + sw + ' px wide in a ' + iw + ' px window');
  notes.push('width ' + sw + '/' + iw);

  // 2. The per-snapshot table holds what `run --out` wrote.
  var heads = document.querySelectorAll('#snapshots thead th[data-step]');
  if (heads.length !== EXPECTED.length)
    fail('the counter table has ' + heads.length + ' snapshot columns, --out ' + EXPECTED.length);
  var cells = 0;
  EXPECTED.forEach(function (e, c) {
    if (!heads[c] || heads[c].getAttribute('data-step') !== String(e.step))
      fail('column ' + c + ' is not step ' + e.step);
    Object.keys(e.values).forEach(function (k) {
      var tr = document.querySelector('#snapshots tr[data-key="' + k + '"]');
      var td = tr && tr.querySelectorAll('td')[c];
      if (!td) fail('no cell for ' + k + ' at step ' + e.step);
      else if (td.textContent !== e.values[k])
        fail(k + ' at step ' + e.step + ': table ' + td.textContent + ', --out ' + e.values[k]);
      else cells++;
    });
  });
  notes.push(cells + ' table cells match --out');

  // 3. The plots were drawn (uPlot canvases), counters and knobs apart.
  var plots = document.querySelectorAll('#plots-counters .uplot canvas').length;
  if (plots < 3) fail('only ' + plots + ' counter plots drawn');
  notes.push(plots + ' counter plots');

  // 4. The tree view opens on click.
  var root = document.querySelector('#view-stable > ul > li');
  if (!root) {
    fail('the stable tree view has no root node');
  } else {
    var before = document.querySelectorAll('#view-stable li').length;
    root.querySelector('.tog').click();
    var kids = root.querySelector('ul');
    var after = document.querySelectorAll('#view-stable li').length;
    if (!kids || kids.style.display === 'none' || after <= before)
      fail('clicking the root did not open its children (' + before + ' -> ' + after + ' nodes)');
    else notes.push('root opened: ' + before + ' -> ' + after + ' nodes shown');
    var child = kids && kids.querySelector(':scope > li .tog');
    if (child) child.click();
  }

  // 5. The search finds pages: SEARCH lists [page, what the result must say].
  var input = document.getElementById('tree-search');
  var out = document.getElementById('search-result');
  (typeof SEARCH === 'undefined' ? [] : SEARCH).forEach(function (s) {
    input.value = s[0];
    input.dispatchEvent(new Event('input'));
    if (out.textContent.indexOf(s[1]) < 0)
      fail('search ' + s[0] + ': "' + out.textContent + '" does not say "' + s[1] + '"');
    else notes.push('search ' + s[0] + ': ' + out.getAttribute('data-node'));
  });
  if (typeof SEARCH !== 'undefined' && SEARCH.length) {
    input.value = SEARCH[0][0];
    input.dispatchEvent(new Event('input'));
  }

  // 6. The event log: counts for every pass, rows from more than one pass, a filter.
  var passes = document.querySelectorAll('#event-counts tbody tr').length;
  var rowPasses = {};
  document.querySelectorAll('#log tbody tr').forEach(function (r) {
    rowPasses[r.getAttribute('data-pass')] = 1;
  });
  var np = Object.keys(rowPasses).length;
  if (passes < 2 || np < passes) fail('event log: ' + passes + ' passes counted, rows from ' + np);
  var f = document.getElementById('filter');
  f.value = 'pass 2';
  f.dispatchEvent(new Event('input'));
  var count = document.getElementById('count').textContent;
  if (!/^[1-9][0-9]* of [0-9]+ rows$/.test(count)) fail('the filter says "' + count + '"');
  notes.push('event log: ' + passes + ' passes, filter "pass 2": ' + count);
  f.value = '';
  f.dispatchEvent(new Event('input'));

  var pre = document.createElement('pre');
  pre.id = 'check-result';
  pre.textContent = fails.length ? 'CHECK-FAIL: ' + fails.join('; ') : 'CHECK-OK ' + notes.join('; ');
  document.body.insertBefore(pre, document.body.firstChild);

  if (location.hash === '#shot=trees') {
    var trees = document.getElementById('trees');
    for (var n = document.body.firstChild; n && n !== trees; n = n.nextSibling)
      if (n.nodeType === 1 && n.id !== 'check-result') n.style.display = 'none';
  }
})();
