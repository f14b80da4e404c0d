/**
 * The checks config sections share: a ConfigError names the bad field ("config: turn.port must be ...").
 * Its own file so that sections validated elsewhere (turn/turnConfig.ts) use the same words.
 */

export class ConfigError extends Error {
  constructor(field: string, problem: string) {
    super(`config: ${field} ${problem}`);
    this.name = 'ConfigError';
  }
}

export function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(field, `must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
  }
  return v;
}

export function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(field, 'must be true or false');
  return v;
}

/** A section over its defaults; a key the defaults do not have is refused. */
export function section<T extends object>(name: string, given: unknown, defaults: T): T {
  if (given === undefined) return { ...defaults };
  if (!given || typeof given !== 'object' || Array.isArray(given))
    throw new ConfigError(name, 'must be an object');
  for (const k of Object.keys(given)) {
    if (!(k in defaults)) throw new ConfigError(`${name}.${k}`, 'is not a known setting');
  }
  return { ...defaults, ...(given as Partial<T>) };
}

/** Janus is external (`janus.urls` or `janus.pool`): nothing is spawned, its addresses are not ours. */
export function externalJanus(j: { urls: string[]; pool: string[][] }): boolean {
  return j.pool.length > 0 || j.urls.length > 0;
}
