/** The one escaping module: text from outside can never become a mention, a ping or a link in Slack. */
import { describe, expect, test } from '@jest/globals';
import { BACKTICK_STAND_IN, clipMd, code, codeBlock, escapeControl, link, md, mention, plain, sentenceNaming } from '../../src/bot/slack-text.js';

/** The text with its code spans taken out: what Slack would parse, link and format. */
function outsideCode(s: string): string {
  return s.replace(/```[\s\S]*?```/g, ' ').replace(/`[^`]*`/g, ' ');
}

/** What an attacker-controlled string must never leave behind in mrkdwn. */
function expectInert(out: string): void {
  // No control characters left: every <…> construct (mention, ping, link, date) is Tycho's or absent.
  expect(out).not.toMatch(/[<>]/);
  // Code spans are balanced, so none of ours was turned inside out.
  expect((out.match(/`/g) ?? []).length % 2).toBe(0);
  // Outside code spans there is nothing Slack would auto-link or auto-mention.
  expect(outsideCode(out)).not.toMatch(/:\/\/|www\.|@|#\w|\w\.[a-z]{2,}/i);
}

const HOSTILE = [
  '<@U0123ABCD> see http://evil.example <!channel>',
  '<!here> <!everyone> <!subteam^S0123|@admins> <#C0123|general> <@W0123>',
  '<http://evil.example|click here for your bonus>',
  '<<@U0123ABCD>|<http://a.example|b>>',
  '<mailto:boss@evil.example|the boss>',
  'a` http://evil.example `b',
  '```<@U0123ABCD>``` and `<!channel>`',
  'contact me at boss@evil.example or www.evil.example/login',
  '&lt;@U0123ABCD&gt; already escaped, &amp; more',
  '@here @channel #general',
  'évil.例え.jp 🚀 <@U0123ABCD>',
  '<!date^1700000000^{date}|<http://evil.example>>',
  'line one\n<@U0123ABCD>\n> quoted http://evil.example',
];

describe('escapeControl: Slack\'s own rule', () => {
  test('escapes exactly &, < and >', () => {
    expect(escapeControl('a & b < c > d "e" \'f\'')).toBe('a &amp; b &lt; c &gt; d "e" \'f\'');
    expect(escapeControl('')).toBe('');
  });
});

describe('plain: outside text shown as text', () => {
  test('the termination message of the issue becomes inert', () => {
    expect(plain('<@U0123ABCD> see http://evil.example <!channel>').text).toBe('`&lt;@U0123ABCD&gt;` see `http://evil.example` &lt;!channel&gt;');
  });

  test.each(HOSTILE)('%j leaves no mention, ping or link', (input) => {
    expectInert(plain(input).text);
  });

  test('backticks from outside are replaced, so they cannot end or open a code span', () => {
    const out = plain('a` http://evil.example `b').text;
    expect(out).toBe(`a${BACKTICK_STAND_IN} \`http://evil.example\` ${BACKTICK_STAND_IN}b`);
  });

  test('ordinary text, unicode and whitespace pass through unchanged', () => {
    expect(plain('The container keeps exiting (code 1), restarted 3 time(s).').text).toBe('The container keeps exiting (code 1), restarted 3 time(s).');
    expect(plain('déjà vu 🚀 日本語 — ok').text).toBe('déjà vu 🚀 日本語 — ok');
    expect(plain('two\n\nlines\tand tabs').text).toBe('two\n\nlines\tand tabs');
    expect(plain('').text).toBe('');
  });

  test('an entity in the input shows as written, not as the character it names', () => {
    expect(plain('&lt;b&gt;').text).toBe('&amp;lt;b&amp;gt;');
  });
});

describe('code: outside text as a code span', () => {
  test('is escaped, keeps no backtick and stays on one line', () => {
    expect(code('nginx:1.25').text).toBe('`nginx:1.25`');
    expect(code('a`b<@U0123ABCD>&').text).toBe(`\`a${BACKTICK_STAND_IN}b&lt;@U0123ABCD&gt;&amp;\``);
    expect(code('one\ntwo').text).toBe('`one two`');
    expect(code('🚀').text).toBe('`🚀`');
  });

  test('empty stays empty (an empty code span would show two backticks)', () => {
    expect(code('').text).toBe('');
  });

  test('code blocks too', () => {
    expect(codeBlock('x ``` <!channel>').text).toBe(`\`\`\`x ${BACKTICK_STAND_IN.repeat(3)} &lt;!channel&gt;\`\`\``);
  });
});

describe('md: Tycho\'s sentences with outside text in them', () => {
  test('literal parts are kept, strings are escaped, Mrkdwn is kept', () => {
    const out = md`:x: *${code('web')}* failed: ${'<!channel> http://evil.example'}.`.text;
    expect(out).toBe(':x: *`web`* failed: &lt;!channel&gt; `http://evil.example`.');
  });

  test('a string inside a code span the template opened is escaped as code', () => {
    expect(md`image \`${'a`b <@U0123ABCD> http://x.example'}\``.text).toBe(`image \`a${BACKTICK_STAND_IN}b &lt;@U0123ABCD&gt; http://x.example\``);
  });

  test('numbers are fine', () => {
    expect(md`*${3} systems*`.text).toBe('*3 systems*');
  });
});

describe('mention: only owners Tycho verified', () => {
  test('a Slack owner recorded from a signed user ID is a live mention, rebuilt from the ID', () => {
    expect(mention({ id: 'slack:U0ALICE001', display: '<@U0ALICE001>' }).text).toBe('<@U0ALICE001>');
    expect(mention({ id: 'slack:W0ALICE001', display: 'whatever <!channel>' }).text).toBe('<@W0ALICE001>');
  });

  test('names typed by people (REST X-Tycho-Owner, CLI) are text, even when they look like mentions', () => {
    expect(mention({ id: 'api:<@U0ADMIN001>', display: '<@U0ADMIN001>' }).text).toBe('`&lt;@U0ADMIN001&gt;`');
    expect(mention({ id: 'cli:carol', display: 'carol' }).text).toBe('carol');
    expect(mention({ id: 'slack:<!here>', display: '<!here>' }).text).toBe('&lt;!here&gt;');
    expect(mention({ id: '', display: '' }).text).toBe('someone');
  });

  test('a sentence naming the owner keeps only a verified owner live', () => {
    const sentence = 'Only <@U0ALICE001> or an admin can tear down "web". <!channel>';
    expect(sentenceNaming(sentence, { id: 'slack:U0ALICE001', display: '<@U0ALICE001>' }).text).toBe('Only <@U0ALICE001> or an admin can tear down "web". &lt;!channel&gt;');
    expectInert(sentenceNaming(sentence, { id: 'api:x', display: '<@U0ALICE001>' }).text);
    expectInert(sentenceNaming(sentence, undefined).text);
  });
});

describe('link: addresses Tycho composed', () => {
  test('an http(s) URL becomes a link; | and > cannot end it early; the label is escaped', () => {
    expect(link('http://10.0.0.1:30080').text).toBe('<http://10.0.0.1:30080>');
    expect(link('https://x.slack.com/archives/C1/p1', 'thread').text).toBe('<https://x.slack.com/archives/C1/p1|thread>');
    expect(link('http://h.example/a|<@U0123ABCD>').text).toBe('<http://h.example/a%7C%3C@U0123ABCD%3E>');
    expect(link('http://h.example/?a=1&b=2', '<b>').text).toBe('<http://h.example/?a=1&amp;b=2|&lt;b&gt;>');
  });

  test('anything else is shown as code', () => {
    expect(link('javascript:alert(1)').text).toBe('`javascript:alert(1)`');
    expect(link('not a url <!channel>').text).toBe('`not a url &lt;!channel&gt;`');
  });
});

describe('clipMd', () => {
  test('keeps short text as it is', () => {
    const m = md`short`;
    expect(clipMd(m, 10)).toBe(m);
  });

  test('never splits an emoji, an entity, a <…> construct or a code span', () => {
    expect(clipMd(md`${'ab🚀🚀🚀'}`, 6).text).toBe('ab🚀…');
    expect(clipMd(md`${'abc&def'}`, 7).text).toBe('abc…');
    expect(clipMd(md`ab ${link('http://10.0.0.1:30080')}`, 12).text).toBe('ab …');
    const clipped = clipMd(md`x ${code('a long image name that goes on')}`, 12).text;
    expect(clipped).toBe('x `a long `…');
  });
});
