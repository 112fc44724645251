import { describe, expect, it } from 'vitest';
import { KNOWN_STATES, STAGE_TABLE, UnknownStates, deriveStage, lookupState } from '../../src/collect/stage-table.ts';

/** [state, stage, health, inView]: every app-service state, written out so a table change is deliberate */
const EXPECTED: [string, string, string, boolean][] = [
  ['pending', 'installing', 'unknown', true],
  ['downloading', 'fetching', 'unknown', true],
  ['installing', 'installing', 'unknown', true],
  ['initializing', 'installing', 'unknown', true],
  ['running', 'running', 'healthy', true],
  ['stopped', 'stopped', 'unhealthy', true],
  ['suspended', 'stopped', 'unhealthy', true],
  ['upgrading', 'upgrading', 'unknown', true],
  ['applyingEnv', 'upgrading', 'unknown', true],
  ['stopping', 'stopped', 'unknown', true],
  ['suspending', 'stopped', 'unknown', true],
  ['resuming', 'running', 'unknown', true],
  ['uninstalling', 'uninstalling', 'unknown', true],
  ['uninstalled', 'uninstalling', 'unknown', false],
  ['pendingCanceling', 'installing', 'unknown', true],
  ['downloadingCanceling', 'fetching', 'unknown', true],
  ['installingCanceling', 'installing', 'unknown', true],
  ['initializingCanceling', 'installing', 'unknown', true],
  ['upgradingCanceling', 'upgrading', 'unknown', true],
  ['applyingEnvCanceling', 'upgrading', 'unknown', true],
  ['resumingCanceling', 'stopped', 'unknown', true],
  ['pendingCanceled', 'stopped', 'unknown', false],
  ['downloadingCanceled', 'stopped', 'unknown', false],
  ['installingCanceled', 'stopped', 'unknown', false],
  ['initializingCanceled', 'stopped', 'unknown', false],
  ['upgradingCanceled', 'running', 'unknown', true],
  ['applyingEnvCanceled', 'running', 'unknown', true],
  ['resumingCanceled', 'stopped', 'unhealthy', true],
  ['pendingCancelFailed', 'failed', 'unhealthy', true],
  ['downloadingCancelFailed', 'failed', 'unhealthy', true],
  ['installingCancelFailed', 'failed', 'unhealthy', true],
  ['initializingCancelFailed', 'failed', 'unhealthy', true],
  ['upgradingCancelFailed', 'failed', 'unhealthy', true],
  ['applyingEnvCancelFailed', 'failed', 'unhealthy', true],
  ['resumingCancelFailed', 'failed', 'unhealthy', true],
  ['downloadFailed', 'failed', 'unhealthy', true],
  ['installFailed', 'failed', 'unhealthy', true],
  ['upgradeFailed', 'failed', 'unhealthy', true],
  ['applyEnvFailed', 'failed', 'unhealthy', true],
  ['stopFailed', 'failed', 'unhealthy', true],
  ['resumeFailed', 'failed', 'unhealthy', true],
  ['uninstallFailed', 'failed', 'unhealthy', true],
  ['failed', 'failed', 'unhealthy', true],
];

describe('stage table', () => {
  it('covers exactly the listed app-service states', () => {
    expect([...KNOWN_STATES].sort()).toEqual(EXPECTED.map((e) => e[0]).sort());
  });

  it.each(EXPECTED)('%s -> %s / %s (in view: %s)', (state, stage, health, inView) => {
    expect(STAGE_TABLE[state]).toEqual({ stage, health, inView });
    expect(deriveStage(state)).toMatchObject({ stage, health, inView, known: true });
  });

  it('every *Failed state (including *CancelFailed) is failed and unhealthy', () => {
    const failed = KNOWN_STATES.filter((s) => /failed$/i.test(s));
    expect(failed.length).toBe(15);
    for (const s of failed) expect(STAGE_TABLE[s]).toMatchObject({ stage: 'failed', health: 'unhealthy', inView: true });
  });

  it('only uninstalled and canceled installs leave the view', () => {
    expect(KNOWN_STATES.filter((s) => !STAGE_TABLE[s].inView).sort()).toEqual([
      'downloadingCanceled', 'initializingCanceled', 'installingCanceled', 'pendingCanceled', 'uninstalled',
    ]);
  });

  it('matches state strings case-insensitively and ignores surrounding blanks', () => {
    expect(lookupState('Running')).toEqual(STAGE_TABLE.running);
    expect(lookupState(' INSTALLFAILED ')).toEqual(STAGE_TABLE.installFailed);
  });
});

describe('deriveStage', () => {
  it('running with every entrance running is healthy', () => {
    const d = deriveStage('running', [{ name: 'web', state: 'running' }, { name: 'api', state: 'Running' }]);
    expect(d).toMatchObject({ stage: 'running', health: 'healthy', downEntrances: [] });
  });

  it('running with an entrance not running is unhealthy and names the entrance', () => {
    const d = deriveStage('running', [{ name: 'web', state: 'running' }, { name: 'api', state: 'notReady' }]);
    expect(d.stage).toBe('running');
    expect(d.health).toBe('unhealthy');
    expect(d.downEntrances).toEqual([{ name: 'api', state: 'notReady' }]);
  });

  it('entrances do not change states other than running', () => {
    expect(deriveStage('stopped', [{ name: 'web', state: 'stopped' }])).toMatchObject({ health: 'unhealthy', downEntrances: [] });
    expect(deriveStage('upgrading', [{ name: 'web', state: 'notReady' }])).toMatchObject({ health: 'unknown', downEntrances: [] });
  });

  it('an unknown state is stage unknown, never running', () => {
    expect(deriveStage('warpingSpeed')).toEqual({
      stage: 'unknown', health: 'unknown', inView: true, known: false, downEntrances: [],
    });
    expect(deriveStage('runningish').stage).toBe('unknown');
  });
});

describe('UnknownStates', () => {
  it('reports each distinct value once', () => {
    const u = new UnknownStates();
    expect(u.note('a')).toBe(true);
    expect(u.note('a')).toBe(false);
    expect(u.note('b')).toBe(true);
    expect([...u.distinct]).toEqual(['a', 'b']);
  });

  it('is bounded', () => {
    const u = new UnknownStates(2);
    u.note('a');
    u.note('b');
    expect(u.note('c')).toBe(false);
    expect(u.distinct.size).toBe(2);
  });
});
