/** The Home view and the digest stay within Slack's block limits however many systems a person has. */
import { describe, expect, it } from '@jest/globals';
import type { SystemInfo } from '../../src/k8s/spec.js';
import { HOME_BLOCKS_MAX, homeView } from '../../src/bot/home-view.js';
import { digestMessage } from '../../src/bot/digest.js';

const system = (i: number): SystemInfo => ({
  name: `app-${i}`,
  namespace: 'apps',
  image: 'nginx:1.25',
  ports: [{ port: 80 }],
  url: `http://127.0.0.1:${30000 + i}/`,
  ready: true,
  stage: 'ready',
  owner: '<@U0ALICE001>',
  ownerId: 'slack:U0ALICE001',
  origin: 'slack',
  created: '2031-03-04T08:00:00Z',
  expires: '2031-03-04T16:00:00Z',
  annotations: {},
});

describe('the Home view', () => {
  it('shows the first 30 of 45 systems within the 100 blocks Slack allows, and says how many more there are', () => {
    const view = homeView(Array.from({ length: 45 }, (_, i) => system(i)), '/tycho ', Date.parse('2031-03-04T09:00:00Z'));
    expect(view.blocks.length).toBeLessThanOrEqual(HOME_BLOCKS_MAX);
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('`app-29`');
    expect(text).not.toContain('`app-30`');
    expect(text).toContain('…and 15 more. See them all with `/tycho list`.');
    expect(text).toContain('1h (since <!date^');
  });

  it('says how to start one when there is none', () => {
    expect(JSON.stringify(homeView([], '/tycho ').blocks)).toContain('You have no systems running.');
  });
});

describe('the digest', () => {
  it('lists the first 20 of 30 systems within the 50 blocks of a message', () => {
    const m = digestMessage('2031-03-04', Array.from({ length: 30 }, (_, i) => system(i)), '/tycho ');
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(m.blocks)).toContain('…and 10 more: `/tycho list`.');
    expect(m.text).toContain("Tycho's daily digest for 2031-03-04: you have 30 systems running.");
  });
});
