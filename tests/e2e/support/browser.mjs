// Debian's headless Chromium driven by playwright-core: the tests never
// download a browser. `CHROMIUM` overrides the executable.
import { chromium } from 'playwright-core';

/** The flags every test browser gets: no sandbox (root in CI), no GPU, no background traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Launches headless Chromium; close it with `browser.close()`. */
export function launchChromium() {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * Opens a page that records uncaught errors and console errors in `page.problems`,
 * so a test can assert that nothing went wrong it did not look for.
 */
export async function newPage(browser) {
  const page = await browser.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e}`));
  page.on('console', (m) => {
    if (m.type() === 'error') page.problems.push(`console.error: ${m.text()}`);
  });
  return page;
}
