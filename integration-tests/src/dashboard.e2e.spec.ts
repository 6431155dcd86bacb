import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT, type LocalServer } from '@stackyard/devinfra';
import { privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';

const CHROMIUM = '/usr/bin/chromium';

// The live dashboard in headless Chromium (Debian's), during a running deployment.
describe('dashboard in headless Chromium', () => {
  let nats: LocalServer;
  let p: Platform;
  let browser: Browser;
  const shots = join(REPO_ROOT, '.stackyard', 'screenshots');

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/setup.sh (installs Debian's chromium)`);
    mkdirSync(shots, { recursive: true });
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('dash'), { provisioning: { LAB_LATENCY_MS: '700', LAB_FAIL_STEPS: 'cmp-03:deploy' } });
    await p.startAll();
    await p.defineSite('db');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await p?.stopAll();
    await nats?.stop();
  });

  it('shows every node progressing live, then ready or failed with its reason', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 600 } });
    const url = `http://127.0.0.1:${p.services.get('monitoring')!.httpPort}/?site=db`;
    await p.registerHost('db', 'ctl-01', ['controllers']);
    await page.goto(url);
    await p.registerHost('db', 'cmp-01');
    await p.registerHost('db', 'cmp-02');
    await p.registerHost('db', 'cmp-03');

    // While the deployment runs: rows appear and update without a reload.
    await page.waitForSelector('tr[data-state="in-progress"]', { timeout: 20_000 });
    await page.waitForSelector('#conn:text("live")');
    // A moment later in the run: some nodes half way through their pipeline.
    await page.locator('.step.done').nth(9).waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(shots, 'dashboard-running.png') });

    await page.locator('tr[data-state="ready"]').nth(2).waitFor({ timeout: 30_000 });
    await page.locator('tr[data-state="failed"]').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('tr[data-state]').count()).toBe(4);
    const failed = page.locator('tr[data-host="db-cmp-03"]');
    await expect.poll(() => failed.locator('.failure').textContent()).toContain('deploy: DeployImageFailed');
    expect(await page.locator('#n-ready').textContent()).toBe('3');
    expect(await page.locator('#n-failed').textContent()).toBe('1');
    expect(await page.locator('tr[data-host="db-ctl-01"] .step.done').count()).toBe(7);
    expect(await failed.locator('.step.failed').count()).toBe(1);
    await page.screenshot({ path: join(shots, 'dashboard.png') });

    const api = await page.evaluate(async () => (await fetch('/api/nodes')).status);
    expect(api).toBe(400);
  });
});
