import { clientRefresh, TokenManager } from 'longbridge-token-api';
import { RedisTokenStore } from 'longbridge-token-api/redis-store'; // npm install redis
import { createClient } from 'redis';

const redis = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect();

// Every machine runs the same: one refresh per rotation for the whole fleet.
const manager = new TokenManager({
  refresh: clientRefresh({
    accountChannel: 'lb',
    appKey: process.env.LONGBRIDGE_APP_KEY,
    appSecret: process.env.LONGBRIDGE_APP_SECRET,
  }),
  initial: { token: process.env.LONGBRIDGE_ACCESS_TOKEN ?? '', expiresAt: '2027-02-01T00:00:00Z' },
  store: new RedisTokenStore({ client: redis, key: 'longbridge-token' }), // coordinates by default
  autoRefresh: true, // rotate in the background when the window opens; never keeps the process alive
});

manager.subscribe((token, { source }) => {
  // A new token: refreshed here (source 'refresh') or by another member ('store').
  // Rebuild whatever holds the old one, e.g. the official SDK's Config and contexts.
  console.log(`new token from ${source}, ${token.length} characters`);
});

const token = await manager.getToken(); // one comparison outside the window
console.log('token valid until', new Date(manager.expiresAt!).toISOString(), token.length > 0);
