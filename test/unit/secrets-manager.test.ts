import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SecretsManagerStandIn, startSecretsManager } from '#local/secrets-manager.ts';

describe('startSecretsManager', () => {
  let standIn: SecretsManagerStandIn;
  let client: SecretsManagerClient;

  beforeEach(async () => {
    standIn = await startSecretsManager({ secrets: { 'gong/credentials': '{"accessKey":"k"}' } });
    client = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: standIn.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });

  afterEach(async () => {
    client.destroy();
    await standIn.close();
  });

  it('returns the secret string with name, ARN and AWSCURRENT stage when the real SDK asks by name', async () => {
    const answer = await client.send(new GetSecretValueCommand({ SecretId: 'gong/credentials' }));

    expect(answer.SecretString).toBe('{"accessKey":"k"}');
    expect(answer.Name).toBe('gong/credentials');
    expect(answer.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:\d{12}:secret:gong\/credentials-[A-Za-z]{6}$/,
    );
    expect(answer.VersionStages).toEqual(['AWSCURRENT']);
    expect(answer.VersionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.CreatedDate).toBeInstanceOf(Date);
  });

  it('returns the same secret when asked by its ARN', async () => {
    const byName = await client.send(new GetSecretValueCommand({ SecretId: 'gong/credentials' }));

    const byArn = await client.send(new GetSecretValueCommand({ SecretId: byName.ARN }));

    expect(byArn.SecretString).toBe('{"accessKey":"k"}');
    expect(standIn.getCalls('gong/credentials')).toBe(2);
  });

  it('throws ResourceNotFoundException when the secret does not exist', async () => {
    const error = await client.send(new GetSecretValueCommand({ SecretId: 'missing' })).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('ResourceNotFoundException');
    expect((error as Error).message).toBe("Secrets Manager can't find the specified secret.");
  });

  it('counts calls per secret id and in total', async () => {
    await client.send(new GetSecretValueCommand({ SecretId: 'gong/credentials' }));
    await client.send(new GetSecretValueCommand({ SecretId: 'gong/credentials' }));
    await client.send(new GetSecretValueCommand({ SecretId: 'missing' })).catch(() => undefined);

    expect(standIn.getCalls('gong/credentials')).toBe(2);
    expect(standIn.getCalls('missing')).toBe(1);
    expect(standIn.getCalls('other')).toBe(0);
    expect(standIn.getCalls()).toBe(3);
  });

  it('returns the new value and a new version after setSecret', async () => {
    const before = await client.send(new GetSecretValueCommand({ SecretId: 'gong/credentials' }));

    standIn.setSecret('gong/credentials', '{"accessKey":"rotated"}');
    standIn.setSecret('slack', '{"signingSecret":"s"}');
    const after = await client.send(new GetSecretValueCommand({ SecretId: 'gong/credentials' }));
    const added = await client.send(new GetSecretValueCommand({ SecretId: 'slack' }));

    expect(after.SecretString).toBe('{"accessKey":"rotated"}');
    expect(after.ARN).toBe(before.ARN);
    expect(after.VersionId).not.toBe(before.VersionId);
    expect(added.SecretString).toBe('{"signingSecret":"s"}');
  });

  it('answers 400 UnknownOperationException when the target is not GetSecretValue', async () => {
    const response = await fetch(standIn.url, {
      method: 'POST',
      headers: {
        'x-amz-target': 'secretsmanager.DeleteSecret',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: '{"SecretId":"gong/credentials"}',
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(((await response.json()) as { __type: string }).__type).toBe('UnknownOperationException');
    expect(standIn.getCalls()).toBe(0);
  });
});
