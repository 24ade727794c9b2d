import type { PageConfig } from '../lib/page/page-config.ts';

export type { PageConfig };

/** Reads and checks the config the server injected; throws naming the missing field. */
export function readConfig(doc: Document): PageConfig {
  const text = doc.getElementById('config')?.textContent ?? '';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error: unknown) {
    throw new Error('The page config is not JSON', { cause: error });
  }
  const config = value as Partial<PageConfig> | null;
  if (typeof config?.authority !== 'string' || config.authority === '') {
    throw new Error('The page config has no authority');
  }
  if (typeof config.clientId !== 'string' || config.clientId === '') {
    throw new Error('The page config has no clientId');
  }
  return config as PageConfig;
}
