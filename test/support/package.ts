import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
/** osls loads itself, the plugins and the stack in about 15 s, far longer on a busy machine. */
export const PACKAGE_TIMEOUT_MS = 180_000;

/** One resource of a packaged CloudFormation template, with the fields tests read. */
export interface TemplateResource {
  Type: string;
  Condition?: string;
  Properties?: Record<string, unknown>;
}

/** The template `osls package` writes (cloudformation-template-update-stack.json). */
export interface PackagedTemplate {
  Conditions?: Record<string, unknown>;
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, unknown>;
}

const packaged = new Map<string, Promise<PackagedTemplate>>();

/**
 * The CloudFormation template of serverless.yml as `osls package` renders it (no AWS account
 * needed), packaged once per stage and params set in a test file's process. Variables the
 * template reads from the environment as fallbacks (ALARM_EMAIL, SALESFORCE_ORG_ID, …) are unset,
 * so only `params` decide.
 */
export function packageTemplate(
  options: { stage?: string; params?: Record<string, string> } = {},
): Promise<PackagedTemplate> {
  const stage = options.stage ?? 'ci';
  const params = Object.entries(options.params ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const key = JSON.stringify([stage, params]);
  let template = packaged.get(key);
  if (!template) {
    template = packageOnce(stage, params);
    packaged.set(key, template);
  }
  return template;
}

async function packageOnce(stage: string, params: [string, string][]): Promise<PackagedTemplate> {
  const dir = await mkdtemp(join(tmpdir(), 'gong-status-package-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(ALARM_|SALESFORCE_|ALERT_|SWEEP_|NUDGE_|GONG_|SLACK_|CRM_|AWS_)/.test(name)) env[name] = value;
  }
  // Packaging resolves no AWS resource, but the framework wants credentials to exist.
  Object.assign(env, { AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline' });
  try {
    await run(
      process.execPath,
      [
        require.resolve('osls/bin/serverless.js'),
        'package',
        '--stage',
        stage,
        '--package',
        dir,
        ...params.flatMap(([name, value]) => ['--param', `${name}=${value}`]),
      ],
      { env, timeout: PACKAGE_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
    );
    return JSON.parse(
      await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as PackagedTemplate;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The template's resources of one CloudFormation type, by logical id. */
export function resourcesOfType(template: PackagedTemplate, type: string): [string, TemplateResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}
