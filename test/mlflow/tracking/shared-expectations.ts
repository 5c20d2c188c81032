// Expectations both stores must meet the same way (the tracking server's SQL store and the file store).
import { expect } from 'vitest';
import { MlflowException, type MlflowClient } from '../../../src/mlflow/index.js';

export async function caught(p: Promise<unknown>): Promise<MlflowException> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(MlflowException);
  return err as MlflowException;
}

/**
 * Search over runs r0..r3 of `experimentId` with params.model a..d, metrics.tps 0, 10, 20, 30, tags.family
 * even/odd, r0..r2 FINISHED (`ids` in that order), with MLflow's filter strings, order and pages.
 */
export async function expectMlflowSearch(client: MlflowClient, experimentId: string, ids: string[]): Promise<void> {
  const names = async (filterString: string, orderBy?: string[]) => (await client.searchRuns(experimentId, { filterString, orderBy })).map((r) => r.info.runName);
  expect(await names('metrics.tps >= 10', ['metrics.tps DESC'])).toEqual(['r3', 'r2', 'r1']);
  expect(await names("params.model = 'b'")).toEqual(['r1']);
  expect(await names("tags.family = 'even' and attributes.status = 'FINISHED'", ['attributes.run_name ASC'])).toEqual(['r0', 'r2']);
  expect(await names(`attributes.run_id IN ('${ids[0]}', '${ids[3]}')`, ['metrics.tps ASC'])).toEqual(['r0', 'r3']);
  expect(await names("attributes.run_name LIKE 'r%' and metrics.tps < 10")).toEqual(['r0']);
  expect(await names("params.model ILIKE 'B'")).toEqual(['r1']);
  const page1 = await client.searchRuns(experimentId, { maxResults: 3, orderBy: ['attributes.run_name ASC'] });
  const page2 = await client.searchRuns(experimentId, { maxResults: 3, orderBy: ['attributes.run_name ASC'], pageToken: page1.token });
  expect([...page1, ...page2].map((r) => r.info.runName)).toEqual(['r0', 'r1', 'r2', 'r3']);
  expect(page2.token).toBeUndefined();
  expect((await caught(client.searchRuns(experimentId, { filterString: "params.model IN ('a')" }))).message).toContain(
    "Expected a quoted string value for parameter (e.g. 'my-value'). Got value ('a')",
  );
  expect((await caught(client.searchRuns(experimentId, { filterString: "attributes.run_name IN ('r0')" }))).message).toContain(
    "Only ['run_id'] attributes support comparison with a list of quoted string values.",
  );
  expect((await caught(client.searchRuns(experimentId, { filterString: 'metrics.tps > x' }))).errorCode).toBe('INVALID_PARAMETER_VALUE');
}
