import { clientRefresh, TokenManager } from 'longbridge-token-api';
import { FileTokenStore } from 'longbridge-token-api/file-store'; // Node only

const manager = new TokenManager({
  // The live form, a new token for 90 days each time; signed when both keys are set.
  refresh: clientRefresh({
    accountChannel: 'lb',
    appKey: process.env.LONGBRIDGE_APP_KEY,
    appSecret: process.env.LONGBRIDGE_APP_SECRET,
  }),
  initial: { token: process.env.LONGBRIDGE_ACCESS_TOKEN ?? '', expiresAt: '2027-02-01T00:00:00Z' },
  store: new FileTokenStore('./longbridge-token.json'),
  onError: (error, { phase }) => console.warn(`token ${phase} failed:`, error), // never shows the token
});

const token = await manager.getToken(); // valid; refreshed first when inside the window
console.log('token valid until', new Date(manager.expiresAt!).toISOString(), token.length > 0);
