// The contract suite passes against the emulator (src/emulator/, live token semantics: a
// refresh kills the token that authorised it) with its default settings, and signed (--sign)
// against the emulator verifying signatures; each valid refresh is authorised by the token
// the previous one issued, so one starting token serves the whole run.
import { afterEach, describe, expect, it } from 'vitest';
import { renderJson, renderText } from '../src/contract/report.js';
import { runContractSuite } from '../src/contract/run.js';
import { startEmulator, type Emulator } from '../src/emulator/emulator.js';

const APP = { appKey: 'contract-app-key', appSecret: 'contract-app-secret-0123456789' };

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

describe('the contract suite against the emulator', () => {
  it('passes with default settings; the chain of tokens: GET refreshes the first, POST the one GET issued', async () => {
    emulator = await startEmulator();
    const report = await runContractSuite({ baseUrl: emulator.url, accessToken: emulator.initialToken });
    expect(report.failed).toEqual([]);
    expect(report.warnings).toEqual([]); // the emulator grants the expiry asked for, and answers a body that is not JSON with the envelope
    expect(report.summary.skipped).toBe(0);
    expect(report.ok).toBe(true);
    const refreshes = emulator.requests.filter((r) => r.issued);
    expect(refreshes.map((r) => r.operation)).toEqual(['refreshAccessToken', 'refreshToken']);
    expect(refreshes[0]!.token).toBe(emulator.initialToken);
    expect(refreshes[1]!.token).toBe(refreshes[0]!.issued!.token);
    expect(emulator.tokenState(emulator.initialToken)).toBe('replaced');
    expect(emulator.liveTokens().map((t) => t.token)).toEqual([refreshes[1]!.issued!.token]);
    for (const output of [renderText(report), renderJson(report)]) {
      for (const token of [emulator.initialToken, ...refreshes.map((r) => r.issued!.token)]) expect(output).not.toContain(token);
    }
  });

  it('passes signed (--sign) against the emulator verifying signatures, strict; the replays get 403202', async () => {
    let t = Date.now();
    const clock = { now: () => t, sleep: async (ms: number) => void (t += ms) };
    emulator = await startEmulator({ ...APP, now: clock.now });
    const report = await runContractSuite({ baseUrl: emulator.url, accessToken: emulator.initialToken, sign: APP, strict: true, ...clock });
    expect(report.failed).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.signed).toBe(true);
    expect(emulator.refreshes).toBe(2);
    const replays = report.probes.filter((p) => p.name === 'replayed-refresh');
    expect(replays.map((p) => p.exchange.response?.body)).toEqual([expect.stringContaining('"code":403202'), expect.stringContaining('"code":403202')]);
    const refused = (name: string) => report.probes.filter((p) => p.name === name).map((p) => p.exchange.response?.status);
    expect(refused('unsigned')).toEqual([403, 403]);
    expect(refused('bad-signature')).toEqual([403, 403]);
    expect(renderJson(report)).not.toContain(APP.appSecret);
  });

  it('started from a token the emulator does not know: one finding naming 401004 and what to do', async () => {
    emulator = await startEmulator();
    const report = await runContractSuite({ baseUrl: emulator.url, accessToken: 'a-token-nobody-issued' });
    expect(report.findings).toEqual([
      expect.objectContaining({ uniform: true, summary: expect.stringMatching(/^every reply \(27 of 27\) was refused with 401004 \(token-invalid\): The token is malformed or was already replaced/) }),
    ]);
  });
});
