// Untrusted text in job summaries: code spans and fences that the text cannot close, and inline
// text that renders as itself. Checked against the CommonMark rules the helpers cite.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { codeBlock, codeSpan, plainText } from '../../src/tool/markdown.js';
import { renderSummary, type SmokeReport } from '../../src/smoke-test/report.js';

/** The text between a code span's opening and closing backtick runs, by CommonMark's rule (first run of the same length closes it). */
function spanContent(markdown: string): string {
  const open = /^`+/.exec(markdown)![0];
  const rest = markdown.slice(open.length);
  for (const m of rest.matchAll(/`+/g)) {
    if (m[0].length === open.length) {
      const inner = rest.slice(0, m.index);
      return /^ .* $/s.test(inner) && inner.trim() !== '' ? inner.slice(1, -1) : inner;
    }
  }
  throw new Error('unclosed span');
}

describe('code spans and fences that hold any text', () => {
  test('a span is closed only at its end, whatever backticks the text holds', () => {
    for (const text of ['plain', 'a ` b', '``x``', '`starts', 'ends`', ' spaced ', '```'] as const) {
      const span = codeSpan(text);
      assert.equal(spanContent(span), text, span);
      assert.ok(span.endsWith(/^`+/.exec(span)![0]), span);
    }
    assert.equal(codeSpan('a\nb'), '`a b`');
    assert.equal(codeSpan('a|b', true), '`a\\|b`');
    assert.equal(codeSpan(''), '');
  });
  test('a fence is longer than any backtick run in its lines', () => {
    const block = codeBlock(['```', 'text', '````` closes?']);
    assert.equal(block[0], '``````');
    assert.equal(block.at(-1), '``````');
    assert.deepEqual(codeBlock(['x']), ['```', 'x', '```']);
  });
  test('plain text: links, images, HTML and emphasis are escaped', () => {
    assert.equal(plainText('![x](http://e/p.png) <img src=x> **b** a|b'), '\\!\\[x\\](http://e/p.png) \\<img src=x\\> \\*\\*b\\*\\* a\\|b');
  });
});

describe('the smoke-test summary keeps server text inside its fences', () => {
  const base: SmokeReport = { passed: false, model: 'm', gpu: '', gfx: '', preflight: [], gpus: [] };
  test('a log line with a fence and HTML stays inside the log block; the answer stays inside its span', () => {
    const md = renderSummary({
      ...base,
      image: 'img',
      failure: { phase: 'startup', title: 'Server failed to start', message: 'answer "<img src=x onerror=alert(1)>"', logTail: ['ok', '```', '</details>', '# Forged heading'] },
      completion: { text: 'Paris ``` ` and', ms: 1 },
    });
    const lines = md.split('\n');
    const open = lines.indexOf('<details><summary>Last server log lines</summary>') + 2;
    const fence = lines[open]!;
    assert.match(fence, /^````+$/, 'the fence is longer than the ``` in the log');
    const close = lines.indexOf(fence, open + 1);
    assert.deepEqual(lines.slice(open + 1, close), ['ok', '```', '</details>', '# Forged heading']);
    assert.equal(lines[close + 1], '</details>');
    assert.match(md, /answer "\\<img src=x onerror=alert\(1\)\\>"/);
    const answer = /Completion \(greedy, [^)]*\): (.*)$/m.exec(md)![1]!;
    assert.equal(spanContent(answer), 'Paris ``` ` and');
  });
});
