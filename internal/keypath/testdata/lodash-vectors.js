// Generates lodash-4.17.21-random.jsonl, differential test vectors for the
// keypath package: random JSON documents and paths (walks over the document's
// own keys written in random syntax, then mutated), each with the result of
// lodash 4.17.21's _.get, _.toPath and reIsDeepProp test.
//
//   npm install lodash@4.17.21
//   node lodash-vectors.js > lodash-4.17.21-random.jsonl
//
// Results that are JavaScript functions or Object.prototype (inherited
// properties, which keysync deliberately does not emulate) are skipped.
'use strict';
const _ = require('lodash');
if (_.VERSION !== '4.17.21') throw new Error('want lodash 4.17.21, have ' + _.VERSION);

let seed = 20260101;
function rnd() {
  seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
  return seed / 0x80000000;
}
function pick(a) { return a[Math.floor(rnd() * a.length)]; }

const noise = ['a', '0', '00', '-1', 'length', ' ', '.', '[', ']', "'", '"', '\\', '\n',
  '\u{1F600}', '[0]', "['a']", '..', '[]', '\\\\', '\u2028', '1.5', 'x y'];
const keys = ['a', 'b', '0', '1', '2', '00', 'length', 'x y', '', ' b ', 'a.b', 'a[0]',
  "['a']", '\u00fc', '\u{1F600}', '-1', '1.5', "'", '\\', "a'", 'b"', '.', '[]', 'e',
  'a\\b', 'q"\'', ']', '[', 'a]b'];
const scalars = ['s', '\u{1F600}x', 'abc', '', 1, 2.5, true, false, null,
  '\u00fc\u{1F600}', 'a\u{1F600}b\u{1F600}'];

function value(depth) {
  const r = rnd();
  if (depth > 3 || r < 0.25) return pick(scalars);
  if (r < 0.5) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
  const o = {};
  for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) o[pick(keys)] = value(depth + 1);
  return o;
}

function escape(k, q) { return k.replace(/\\/g, '\\\\').split(q).join('\\' + q); }

function render(k, first) {
  const r = rnd();
  const dot = first ? '' : '.';
  if (r < 0.3) return dot + k;
  if (r < 0.5) return '[' + k + ']';
  if (r < 0.7) return "['" + escape(k, "'") + "']";
  if (r < 0.8) return '["' + escape(k, '"') + '"]';
  if (r < 0.9) return dot + escape(k, "'");
  return '[' + pick(["'", '"']) + k + pick(["'", '"']) + ']';
}

function walkPath(data) {
  let p = '';
  let cur = data;
  for (let depth = Math.floor(rnd() * 5), i = 0; i < depth; i++) {
    let k;
    if (typeof cur === 'string') k = pick([String(Math.floor(rnd() * cur.length)), 'length']);
    else if (Array.isArray(cur)) k = pick([String(Math.floor(rnd() * (cur.length + 1))), 'length']);
    else if (cur && typeof cur === 'object' && Object.keys(cur).length) k = pick(Object.keys(cur));
    else k = pick(keys);
    p += render(k, i === 0);
    cur = cur == null ? undefined : cur[k];
  }
  if (rnd() < 0.3) {
    const at = Math.floor(rnd() * (p.length + 1));
    p = p.slice(0, at) + pick(noise) + p.slice(at);
  }
  if (rnd() < 0.1) {
    const at = Math.floor(rnd() * p.length);
    p = p.slice(0, at) + p.slice(at + 1);
  }
  return p;
}

function noisePath() {
  let p = '';
  for (let n = Math.floor(rnd() * 7); n > 0; n--) p += pick(noise);
  return p;
}

const reIsDeepProp = /\.|\[(?:[^[\]]*|(["'])(?:(?!\1)[^\\]|\\.)*?\1)\]/;
const seen = new Set();
const lines = [];
while (lines.length < 1500) {
  const data = rnd() < 0.1 ? pick(['\u{1F600}ab', 'x', [1, [2]], null]) : value(0);
  const path = rnd() < 0.8 ? walkPath(data) : noisePath();
  const got = _.get(data, path);
  if (typeof got === 'function' || got === Object.prototype) continue;
  const line = JSON.stringify({
    data, path, keys: _.toPath(path), deep: reIsDeepProp.test(path),
    found: got !== undefined, value: got === undefined ? null : got,
  });
  if (seen.has(path + '\u0000' + line)) continue;
  seen.add(path + '\u0000' + line);
  lines.push(line);
}
process.stdout.write(lines.join('\n') + '\n');
