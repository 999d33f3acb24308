/**
 * Which Slack requests are for this Tycho: the rules of src/bot/installation.ts on their own,
 * including Enterprise Grid, which the end-to-end tests (test/bot/foreign-requests.test.ts)
 * do not cover.
 */
import { ConfigError } from '../../src/config.js';
import { foreignRequest, installationFrom } from '../../src/bot/installation.js';

describe('installationFrom', () => {
  it('learns the workspace and app from auth.test, or takes them from the configuration', () => {
    expect(installationFrom({}, { team_id: 'T1', app_id: 'A1' })).toEqual({ teamId: 'T1', appId: 'A1' });
    expect(installationFrom({ appId: 'A1' }, { team_id: 'T1' })).toEqual({ teamId: 'T1', appId: 'A1' });
    expect(installationFrom({ teamId: 'T1', appId: 'A1' }, undefined)).toEqual({ teamId: 'T1', appId: 'A1' });
    expect(installationFrom({}, undefined)).toEqual({});
  });

  it('an org-wide install on Enterprise Grid is known by its organization', () => {
    expect(installationFrom({}, { team_id: 'T1', enterprise_id: 'E1', is_enterprise_install: true })).toEqual({ teamId: 'E1' });
    expect(installationFrom({}, { team_id: 'T1', enterprise_id: 'E1', is_enterprise_install: false })).toEqual({ teamId: 'T1' });
  });

  it('a configured ID that the token contradicts stops startup, naming both variables', () => {
    expect(() => installationFrom({ teamId: 'T2' }, { team_id: 'T1' })).toThrow(ConfigError);
    expect(() => installationFrom({ teamId: 'T2' }, { team_id: 'T1' })).toThrow('SLACK_TEAM_ID is T2, but SLACK_BOT_TOKEN belongs to T1: fix whichever is wrong.');
    expect(() => installationFrom({ appId: 'A2' }, { team_id: 'T1', app_id: 'A1' })).toThrow('SLACK_APP_ID is A2, but SLACK_BOT_TOKEN belongs to app A1: fix whichever is wrong.');
  });
});

describe('foreignRequest', () => {
  const mine = { teamId: 'T1', appId: 'A1' };
  const from = { teamId: 'T1', isEnterpriseInstall: false, appId: 'A1' };

  it('answers the installed workspace and app only', () => {
    expect(foreignRequest(mine, from)).toBeUndefined();
    expect(foreignRequest(mine, { ...from, teamId: 'T9' })).toBe('it comes from workspace T9, not T1');
    expect(foreignRequest(mine, { ...from, appId: 'A9' })).toBe('it is addressed to app A9, not A1');
    expect(foreignRequest(mine, { isEnterpriseInstall: false })).toBe('it comes from workspace (none), not T1');
  });

  it('without a known app, checks the workspace alone; without a known workspace, answers nothing', () => {
    expect(foreignRequest({ teamId: 'T1' }, { ...from, appId: 'A9' })).toBeUndefined();
    expect(foreignRequest({}, from)).toMatch(/does not know its own workspace yet/);
  });

  it('org-wide installs compare the organization; a workspace install is not matched by an organization ID', () => {
    const org = { teamId: 'E1', appId: 'A1' };
    expect(foreignRequest(org, { teamId: 'T5', enterpriseId: 'E1', isEnterpriseInstall: true, appId: 'A1' })).toBeUndefined();
    expect(foreignRequest(org, { teamId: 'T5', enterpriseId: 'E9', isEnterpriseInstall: true, appId: 'A1' })).toBe('it comes from workspace E9, not E1');
    // A workspace-level request inside the organization is not the org-wide install.
    expect(foreignRequest(org, { teamId: 'T5', enterpriseId: 'E1', isEnterpriseInstall: false, appId: 'A1' })).toBe('it comes from workspace T5, not E1');
    // And an org-wide request is not a workspace install of the same organization.
    expect(foreignRequest(mine, { teamId: 'T1', enterpriseId: 'E1', isEnterpriseInstall: true, appId: 'A1' })).toBe('it comes from workspace E1, not T1');
  });
});
