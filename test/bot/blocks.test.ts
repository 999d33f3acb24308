/** The Block Kit builders and the error wording: pure functions, checked against Slack's limits. */
import { describe, expect, test } from '@jest/globals';
import { ACTION_TEARDOWN, rootMessage, statusMessage, systemActions, usageMessage, failedReply, noticeMessage } from '../../src/bot/blocks.js';
import { md } from '../../src/bot/slack-text.js';
import { mrkdwnObjects } from '../support/mrkdwn.js';
import { explain } from '../../src/bot/error-text.js';
import { ImagePullFailed, NotOwner } from '../../src/k8s/errors.js';
import type { SystemInfo } from '../../src/k8s/spec.js';

const ALICE = { id: 'slack:U0ALICE001', display: '<@U0ALICE001>' };
const facts = { name: 'web', image: 'nginx:1.25', owner: ALICE };

function system(i: number): SystemInfo {
  return {
    name: `app-${i}`,
    namespace: 'ns',
    image: 'nginx',
    ports: [{ port: 80, nodePort: 30000 + i }],
    url: `http://127.0.0.1:${30000 + i}`,
    ready: i % 2 === 0,
    stage: i % 2 === 0 ? 'ready' : 'pulling',
    ...(i % 2 === 0 ? {} : { reason: 'pulling <image> & more' }),
    owner: i % 3 === 0 ? 'alice' : '<@U0BOB00001>',
    ownerId: 'x',
    origin: 'slack',
    created: new Date(Date.now() - 3_600_000).toISOString(),
    expires: null,
    annotations: {},
  };
}

describe('blocks', () => {
  test('the Tear down button is danger-styled, asks for confirmation, and carries only the name', () => {
    const block = systemActions('web') as { elements: { action_id: string; value: string; style?: string; confirm?: { style?: string } }[] };
    const teardown = block.elements.find((e) => e.action_id === ACTION_TEARDOWN)!;
    expect(teardown).toMatchObject({ value: 'web', style: 'danger', confirm: { style: 'danger' } });
  });

  test('the root message shows the URL and buttons when ready, and no buttons once torn down', () => {
    const ready = JSON.stringify(rootMessage(facts, { kind: 'ready', url: 'http://10.0.0.1:30080' }));
    expect(ready).toContain('<http://10.0.0.1:30080>');
    expect(ready).toContain(ACTION_TEARDOWN);
    const gone = rootMessage(facts, { kind: 'torn-down', by: { id: 'slack:U0ADMIN001', display: '<@U0ADMIN001>' }, at: new Date('2025-01-02T03:04:05Z') });
    expect(JSON.stringify(gone)).not.toContain(ACTION_TEARDOWN);
    expect(JSON.stringify(gone)).toContain('<!date^1735787045^');
    expect(JSON.stringify(gone)).toContain('<@U0ADMIN001>');
  });

  test('text from Kubernetes or people cannot inject Slack markup; only owners Tycho verified are mentioned', () => {
    const hostile = '<@U0123ABCD> see http://evil.example <!channel>';
    const failed = failedReply('web', md`${hostile}`, false, '/tycho ');
    const root = rootMessage({ name: 'web', image: 'evil.example/x:1', owner: { id: 'api:<!here>', display: '<!here>' } }, { kind: 'failed', title: 'it broke', reason: md`${hostile}`, exists: true });
    const notice = noticeMessage({ name: 'web', image: 'nginx', owner: { id: 'cli:<@U0BOSS0001>', display: '<@U0BOSS0001>' } }, { kind: 'launching' });
    for (const m of [failed, root, notice]) {
      const all = JSON.stringify(m);
      for (const live of ['<@U0123ABCD>', '<!channel>', '<!here>', '<@U0BOSS0001>', '<http']) expect(all).not.toContain(live);
      expect(all).not.toMatch(/[^`]http:\/\/evil\.example/);
    }
    expect(failed.text).toBe('`&lt;@U0123ABCD&gt;` see `http://evil.example` &lt;!channel&gt;');
    // A Slack owner recorded from a verified user ID stays a mention.
    expect(JSON.stringify(rootMessage(facts, { kind: 'launching' }))).toContain('<@U0ALICE001> is launching');
  });

  test('every mrkdwn text object is verbatim, so Slack adds no links or mentions of its own', () => {
    const texts = mrkdwnObjects([
      rootMessage(facts, { kind: 'ready', url: 'http://10.0.0.1:30080' }),
      statusMessage([system(1), system(2)], '/tycho '),
      usageMessage('bad', 'Usage: x'),
      noticeMessage(facts, { kind: 'ready', url: null }, 'https://x.slack.com/archives/C1/p1'),
    ]);
    expect(texts.length).toBeGreaterThan(10);
    expect(texts.every((t) => t.verbatim === true)).toBe(true);
  });

  test('a long list stays within 50 blocks and 10 fields a section', () => {
    const m = statusMessage(Array.from({ length: 100 }, (_, i) => system(i)), '/tycho ');
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    for (const b of m.blocks) if (b.type === 'section' && 'fields' in b && b.fields) expect(b.fields.length).toBeLessThanOrEqual(10);
    expect(JSON.stringify(m.blocks)).toContain('…and 60 more');
    expect(JSON.stringify(m.blocks)).toContain('pulling: pulling &lt;image&gt; &amp; more');
  });

  test('an empty list says how to start something', () => {
    expect(statusMessage([], '/tycho ').text).toContain('/tycho up -n NAME -c IMAGE -p PORT');
  });

  test('a usage message has the reason and the usage line', () => {
    const m = usageMessage('A launch needs an image: add -c IMAGE.', 'Usage: /tycho up -n NAME -c IMAGE -p PORT');
    expect(m.text).toBe('A launch needs an image: add -c IMAGE.\nUsage: /tycho up -n NAME -c IMAGE -p PORT');
  });
});

describe('error text', () => {
  const logged: string[] = [];
  const log = { debug() {}, info() {}, warn() {}, error: (m: string, f?: Record<string, unknown>) => logged.push(`${m} ${JSON.stringify(f)}`) };

  test("Tycho's own errors keep their sentence and get a short title", () => {
    const pull = explain(new ImagePullFailed('web', 'nope:1', 'ErrImagePull', 'not found'), log, 'launch');
    expect(pull.title).toBe('the image could not be pulled');
    expect(pull.text.text).toContain('The image "nope:1" could not be pulled');
    expect(explain(new NotOwner('web', '<@U0ALICE001>', 'slack:U0ALICE001'), log, 'x').text.text).toBe('Only <@U0ALICE001> or an admin can tear down "web".');
    // An owner typed into the REST API that looks like a mention is shown as text.
    expect(explain(new NotOwner('web', '<@U0ALICE001>', 'api:<@U0ALICE001>'), log, 'x').text.text).toBe('Only `&lt;@U0ALICE001&gt;` or an admin can tear down "web".');
  });

  test('anything else is logged, and Slack only hears that something went wrong', () => {
    const raw = Object.assign(new Error('HTTP-Code: 500 Body: {"kind":"Status","message":"etcdserver: leader changed"}'), { stack: 'Error\n    at launch (src/x.ts:1:1)' });
    const e = explain(raw, log, 'launch "web"');
    expect(e.text.text).toBe('Something went wrong inside Tycho while trying to launch "web". An admin can find the details in Tycho\'s log.');
    expect(e.text.text).not.toMatch(/Status|etcd|\.ts:/);
    expect(logged.some((l) => l.includes('etcdserver'))).toBe(true);
  });
});
