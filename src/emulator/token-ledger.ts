// The live token semantics: every token the emulator issued, and whether it still works. A
// refresh issues a successor and kills the token that authorised it; a killed token stays
// known, so its later use is told apart (401004) from an expired one (401003).
import { randomBytes } from 'node:crypto';

/** What the emulator knows of a token sent in `Authorization`. */
export type TokenState = 'live' | 'replaced' | 'expired' | 'unknown' | 'missing';

interface Entry {
  readonly expiresAt: number;
  replaced: boolean;
}

export class TokenLedger {
  readonly #tokens = new Map<string, Entry>();

  /** Issues a new live token valid until `expiresAt` (ms since the epoch), or registers `token`. */
  issue(expiresAt: number, token: string | undefined = undefined): string {
    token ??= newToken();
    this.#tokens.set(token, { expiresAt, replaced: false });
    return token;
  }

  state(token: string | undefined, now: number): TokenState {
    if (token === undefined || token === '') return 'missing';
    const entry = this.#tokens.get(token);
    if (entry === undefined) return 'unknown';
    if (entry.replaced) return 'replaced';
    return now < entry.expiresAt ? 'live' : 'expired';
  }

  /** Kills `token` (which must be live) and issues its successor, valid until `expiresAt`. */
  replace(token: string, expiresAt: number): string {
    const entry = this.#tokens.get(token);
    if (entry === undefined || entry.replaced) throw new Error('only a live token can be replaced');
    entry.replaced = true;
    return this.issue(expiresAt);
  }

  /** The tokens that work now, with their expiry. */
  live(now: number): Array<{ token: string; expiresAt: number }> {
    const out: Array<{ token: string; expiresAt: number }> = [];
    for (const [token, entry] of this.#tokens) {
      if (!entry.replaced && now < entry.expiresAt) out.push({ token, expiresAt: entry.expiresAt });
    }
    return out;
  }
}

/** An opaque token, unique per issue, safe in a header. */
function newToken(): string {
  return `emu_${randomBytes(24).toString('base64url')}`;
}
