import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT, type LocalServer } from '@stackyard/devinfra';
import { sha256Hex } from '@stackyard/grpc';
import { privateNats, uniquePrefix } from '@stackyard/testing';
import { Platform } from './platform';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'tok-dashboard-operator-0123456789';

// The live dashboard in headless Chromium (Debian's), during a running deployment, with API tokens on
// (AUTH_TOKENS_FILE): the browser logs in with a token first.
describe('dashboard in headless Chromium', () => {
  let nats: LocalServer;
  let p: Platform;
  let browser: Browser;
  const shots = join(REPO_ROOT, '.stackyard', 'screenshots');

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/setup.sh (installs Debian's chromium)`);
    mkdirSync(shots, { recursive: true });
    const tokens = join(mkdtempSync(join(tmpdir(), 'stackyard-dash-')), 'tokens.json');
    writeFileSync(tokens, JSON.stringify([{ name: 'db-ops', role: 'operator', sites: ['db'], token_sha256: sha256Hex(TOKEN) }]));
    nats = await privateNats();
    p = new Platform(nats.url, uniquePrefix('dash'), {
      provisioning: { LAB_LATENCY_MS: '700', LAB_FAIL_STEPS: 'cmp-03:deploy' },
      monitoring: { AUTH_TOKENS_FILE: tokens },
    });
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
    // Not signed in: the login form, which refuses a wrong token and takes the right one.
    await page.goto(url);
    await page.waitForSelector('input[name="token"]');
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('input[name="token"]', 'wrong-token');
    await page.click('button[type="submit"]');
    expect(await page.locator('#login-error').textContent()).toBe('token: not a valid API token');
    await page.fill('input[name="token"]', TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForSelector('#who:text("db-ops (operator, db)")');
    expect(page.url()).toBe(url);
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
    // An operator's token: the failed node offers retry and abort, the ready ones nothing.
    expect(await failed.locator('button.retry').textContent()).toBe('Retry deploy');
    expect(await failed.locator('button.abort').count()).toBe(1);
    expect(await page.locator('tr[data-state="ready"] button').count()).toBe(0);
    // An operator's token: the failed node offers retry and abort, the ready ones nothing.
    expect(await failed.locator('button.retry').textContent()).toBe('Retry deploy');
    expect(await failed.locator('button.abort').count()).toBe(1);
    expect(await page.locator('tr[data-state="ready"] button').count()).toBe(0);
    await page.screenshot({ path: join(shots, 'dashboard.png') });

    const api = await page.evaluate(async () => (await fetch('/api/nodes')).status);
    expect(api).toBe(400);
    // The session cookie is out of reach of the page's scripts (HttpOnly); logging out ends it.
    const session = (await page.context().cookies()).find((c) => c.name === 'stackyard_token');
    expect([session?.httpOnly, session?.sameSite]).toEqual([true, 'Strict']);
    expect(await page.evaluate('document.cookie')).toBe('');
    await page.click('#logout');
    await page.waitForSelector('input[name="token"]');
    expect(await page.evaluate(async () => (await fetch('/api/nodes?site=db')).status)).toBe(401);
  });
});
