import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModelPath, saveArtifacts } from '../../src/mlflow/artifacts.js';
import { MlflowException, pyfunc, PythonModel } from '../../src/mlflow/index.js';

class Echo extends PythonModel {
  predict(): string[] {
    return ['ok'];
  }
}

let root: string;
let outside: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ortgenai-artifacts-'));
  outside = path.join(root, 'outside');
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret.txt'), 'secret');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A model folder whose MLmodel lists `artifactPath` as an artifact (and optionally other flavor keys). */
async function modelWith(name: string, artifactPath: string, extra = ''): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(path.join(dir, 'artifacts', 'ok'), { recursive: true });
  await writeFile(
    path.join(dir, 'MLmodel'),
    `flavors:\n  python_function:\n    artifacts:\n      weights:\n        path: ${JSON.stringify(artifactPath)}\n        uri: x\n${extra}    loader_module: mlflow.pyfunc.model\n    python_model: python_model.pkl\n`,
  );
  return dir;
}

async function refusal(dir: string): Promise<MlflowException> {
  const err = await pyfunc.loadModel(dir, { pythonModel: new Echo() }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MlflowException);
  return err as MlflowException;
}

describe('paths in an MLmodel must stay inside the model folder', () => {
  it('refuses ../ and absolute artifact paths', async () => {
    expect((await refusal(await modelWith('dotdot', '../outside'))).message).toMatch(/Refusing to use artifact 'weights' '..\/outside'.*climbs out/);
    expect((await refusal(await modelWith('absolute', outside))).message).toMatch(/is an absolute path/);
    expect((await refusal(await modelWith('sneaky', 'artifacts/ok/../../../outside'))).message).toMatch(/climbs out/);
  });

  it('refuses symlinks that lead out, at the top or nested inside an artifact folder', async () => {
    const top = await modelWith('symlink-top', 'artifacts/link');
    await symlink(outside, path.join(top, 'artifacts', 'link'));
    expect((await refusal(top)).message).toMatch(/is a symlink to '.*outside'/);

    const nested = await modelWith('symlink-nested', 'artifacts/ok');
    await symlink(path.join(outside, 'secret.txt'), path.join(nested, 'artifacts', 'ok', 'secret.txt'));
    expect((await refusal(nested)).message).toMatch(/'artifacts\/ok\/secret.txt' inside it is a symlink to '.*secret.txt'/);
  });

  it('refuses code, data and entry-module paths that escape', async () => {
    expect((await refusal(await modelWith('code', 'artifacts/ok', '    code: ../..\n'))).message).toMatch(/code path '..\/..'/);
    expect((await refusal(await modelWith('data', 'artifacts/ok', '    data: /etc\n'))).message).toMatch(/data path '\/etc'/);
    const dir = path.join(root, 'entry');
    await mkdir(dir);
    await writeFile(path.join(dir, 'MLmodel'), 'flavors:\n  nodejs_function:\n    entry_module: ../outside/evil.mjs\n    loader_module: ortgenai_node.pyfunc.model\n');
    await expect(pyfunc.loadModel(dir)).rejects.toThrow(/entry module '..\/outside\/evil.mjs'.*climbs out/);
  });

  it('accepts a symlink that stays inside the model', async () => {
    const dir = await modelWith('inner-link', 'artifacts/alias');
    await symlink(path.join(dir, 'artifacts', 'ok'), path.join(dir, 'artifacts', 'alias'));
    expect(await resolveModelPath(dir, 'artifacts/alias', 'artifact')).toBe(path.join(dir, 'artifacts', 'alias'));
  });
});

describe('saving artifacts', () => {
  it('stores by basename, once per source, in numbered folders on collisions, following symlinks', async () => {
    const a = path.join(root, 'src-a', 'model');
    const b = path.join(root, 'src-b', 'model');
    await mkdir(a, { recursive: true });
    await mkdir(b, { recursive: true });
    await writeFile(path.join(a, 'w.bin'), 'A');
    await symlink(path.join(outside, 'secret.txt'), path.join(b, 'w.bin'));
    const target = path.join(root, 'saved');
    const saved = await saveArtifacts(target, { first: a, again: a, second: pathToFileURL(b).href, notes: path.join(outside, 'secret.txt') });
    expect(saved).toEqual({
      first: { path: 'artifacts/0/model', uri: a },
      again: { path: 'artifacts/0/model', uri: a },
      second: { path: 'artifacts/1/model', uri: pathToFileURL(b).href },
      notes: { path: 'artifacts/secret.txt', uri: path.join(outside, 'secret.txt') },
    });
    // the symlink was copied as the file it points to, so the model folder stands alone
    expect(await readFile(path.join(target, 'artifacts/1/model/w.bin'), 'utf8')).toBe('secret');
    await expect(saveArtifacts(path.join(root, 'x'), { gone: path.join(root, 'nope') })).rejects.toMatchObject({ errorCode: 'RESOURCE_DOES_NOT_EXIST' });
  });
});
