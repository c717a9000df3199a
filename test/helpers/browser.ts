import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page, type Request } from 'playwright-core';

/** Debian's Chromium (apt `chromium`, installed by .ci/run); playwright-core never downloads a browser. */
export const CHROMIUM = process.env.BOOKREC_CHROMIUM ?? '/usr/bin/chromium';

/** Where screenshots go for people to look at: beside tap's own output, kept after the run. */
export const SCREENSHOTS = fileURLToPath(new URL('../../.tap/screenshots/', import.meta.url));

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * Headless Chromium with the flags this machine needs (no sandbox as root, and no background traffic:
 * the network is closed and every test page is on 127.0.0.1). Fails, never skips, without Chromium.
 */
export async function launchChromium(t: Teardown): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium; .ci/run does)`,
    );
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--disable-extensions',
      '--metrics-recording-only',
      '--no-default-browser-check',
    ],
  });
  t.teardown(() => browser.close());
  return browser;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

/** Every request a page makes, in order, with its headers and body. */
export function recordRequests(page: Page): SeenRequest[] {
  const seen: SeenRequest[] = [];
  page.on('request', (r: Request) => {
    seen.push({ method: r.method(), url: r.url(), headers: r.headers(), body: r.postData() });
  });
  return seen;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
