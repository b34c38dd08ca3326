// Which host a command-line tool of this package talks to, in one order for every bin:
// `--base-url`, else LONGBRIDGE_HTTP_URL, else the region (`--region` / `--cn`, else
// LONGBRIDGE_REGION), else the global host. The older SDKs' LONGPORT_HTTP_URL and
// LONGPORT_REGION count when the LONGBRIDGE_ name is unset; an empty variable counts as unset.
import { REGION_BASE_URLS } from '../index.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The regions' hosts, from the spec's servers (`x-region`; test/cli.test.ts checks both against openapi.yaml). */
export const REGIONS = REGION_BASE_URLS;
export const GLOBAL_BASE_URL = REGIONS.global;
export const CN_BASE_URL = REGIONS.cn;

export const BASE_URL_ENV = ['LONGBRIDGE_HTTP_URL', 'LONGPORT_HTTP_URL'] as const;
export const REGION_ENV = ['LONGBRIDGE_REGION', 'LONGPORT_REGION'] as const;

/** The host flags as given on the command line. */
export interface HostFlags {
  baseUrl?: string;
  region?: string;
  cn?: boolean;
}

export interface BaseUrlChoice {
  baseUrl: string;
  /** Where it came from, to name in messages: a flag, a variable, or "default". */
  source: string;
  /** Set when a region flag lost to the base-URL variable: say so on stderr. */
  warning?: string;
}

/** A host flag or variable that cannot be used; nothing was sent. */
export class BaseUrlChoiceError extends Error {
  override name = 'BaseUrlChoiceError';
}

export function chooseBaseUrl(flags: HostFlags, env: Env): BaseUrlChoice {
  const given = (['base-url', 'region', 'cn'] as const).filter((flag) =>
    flag === 'base-url' ? flags.baseUrl !== undefined : flag === 'region' ? flags.region !== undefined : flags.cn === true,
  );
  if (given.length > 1) throw new BaseUrlChoiceError(`${given.map((flag) => `--${flag}`).join(' and ')} exclude each other: give one`);
  if (flags.baseUrl !== undefined) return { baseUrl: flags.baseUrl, source: '--base-url' };

  const regionFlag = flags.region !== undefined ? '--region' : flags.cn ? '--cn' : undefined;
  const fromEnv = firstSet(env, BASE_URL_ENV);
  if (fromEnv) {
    const choice: BaseUrlChoice = { baseUrl: fromEnv[0], source: fromEnv[1] };
    if (regionFlag) choice.warning = `${regionFlag} is ignored: ${fromEnv[1]} is set (${fromEnv[0]}) and comes first; unset it to choose a region`;
    return choice;
  }
  if (regionFlag === '--cn') return { baseUrl: CN_BASE_URL, source: '--cn' };
  const region = flags.region !== undefined ? ([flags.region, '--region'] as const) : firstSet(env, REGION_ENV);
  if (region) {
    const [name, source] = region;
    if (name !== 'global' && name !== 'cn') {
      const value = /^[a-z]{1,20}$/i.test(name) ? JSON.stringify(name) : `a value of ${name.length} characters`;
      throw new BaseUrlChoiceError(`${source} must be "global" (${GLOBAL_BASE_URL}) or "cn" (${CN_BASE_URL}), got ${value}`);
    }
    return { baseUrl: REGIONS[name], source };
  }
  return { baseUrl: GLOBAL_BASE_URL, source: 'default' };
}

/** The first non-empty variable of `names`: `[value, name]`. */
function firstSet(env: Env, names: readonly string[]): readonly [string, string] | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return [value, name];
  }
  return undefined;
}
