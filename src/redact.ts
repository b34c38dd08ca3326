// The one place secrets are scrubbed from text: anything a server says (a message, a body)
// before it becomes part of an error, a CLI line or a contract report. The client, the CLI
// and the contract suite all call this module; none has its own rule.

/** What a scrubbed secret is replaced with. */
export const REDACTED = '<redacted>';

/**
 * Secrets shorter than this are not replaced inside text: replacing "0" would eat the digits
 * of codes. A text that contains such a secret is withheld instead (see `scrubSecrets`).
 */
export const MIN_SCRUBBED_LENGTH = 8;

/**
 * `text` with every secret replaced by `<redacted>`, longest first, in each form a server may
 * echo it in (see `formsOf`); `undefined` when the text holds a secret too short to replace
 * safely, so the caller must withhold the whole text. Empty and missing secrets are ignored.
 */
export function scrubSecrets(text: string, secrets: Iterable<string | undefined>): string | undefined {
  const present = [...secrets]
    .flatMap((secret) => (typeof secret === 'string' && secret !== '' ? formsOf(secret) : []))
    .filter((form) => text.includes(form));
  if (present.some((secret) => secret.length < MIN_SCRUBBED_LENGTH)) return undefined;
  return present.sort((a, b) => b.length - a.length).reduce((out, secret) => out.split(secret).join(REDACTED), text);
}

/**
 * A secret as it is, and as a server may echo it: percent-encoded (in a URL or a form),
 * JSON-escaped, and base64 of the whole secret (with or without padding, standard or URL-safe),
 * as in an echoed Basic or signed header.
 */
function formsOf(secret: string): string[] {
  const forms = [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)];
  try {
    const base64 = btoa(secret).replace(/=+$/, ''); // credentials are Latin-1 (src/credential.ts)
    forms.push(base64, base64.replace(/\+/g, '-').replace(/\//g, '_'));
  } catch {
    // not Latin-1: no base64 form
  }
  return forms;
}

/** As `scrubSecrets`, with `withheld` in place of a text that could not be scrubbed safely. */
export function scrubOrWithhold(text: string, secrets: Iterable<string | undefined>, withheld: string): string {
  return scrubSecrets(text, secrets) ?? withheld;
}

/** True for a JSON key whose value is a credential wherever it appears: `token`, `access_token`, … */
export function isTokenKey(key: string): boolean {
  return /token/i.test(key);
}

/**
 * A parsed JSON value made safe to print: every value under a key naming a token replaced by
 * `<redacted>`, every string (keys too) scrubbed as `scrubSecrets` does; `undefined` when a
 * string holds a secret too short to replace, so the caller must withhold the whole value.
 */
export function scrubJson(value: unknown, secrets: Iterable<string | undefined>): unknown {
  const list = [...secrets];
  let unsafe = false;
  const scrub = (text: string) => {
    const out = scrubSecrets(text, list);
    if (out === undefined) unsafe = true;
    return out ?? '';
  };
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return scrub(node);
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== 'object' || node === null) return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, child]) => [scrub(key), isTokenKey(key) && child !== null && typeof child !== 'object' ? REDACTED : walk(child)]),
    );
  };
  const out = walk(value);
  return unsafe ? undefined : out;
}
