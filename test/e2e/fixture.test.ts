import { afterAll, beforeAll, expect, test } from 'vitest';
import { type LaunchedExtension, launchExtension } from './fixtures/extension.ts';

let ext: LaunchedExtension;
beforeAll(async () => {
  ext = await launchExtension();
}, 30_000);
afterAll(async () => {
  await ext?.close();
});

test('the built extension loads and its worker survives a CDP stop', async () => {
  expect(ext.extensionId).toMatch(/^[a-p]{32}$/);
  await ext.stopServiceWorker();
  await ext.readyWorker();
  expect(ext.worker.url()).toContain(ext.extensionId);
}, 30_000);
