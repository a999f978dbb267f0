/**
 * Renders media/icon.svg into media/icon.png (256x256, the Marketplace wants a PNG of at least
 * 128x128) in headless Chromium: `npx tsx scripts/renderIcon.ts` after editing the SVG.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumExecutable } from './chromium';

const root = join(__dirname, '..');

async function main(): Promise<void> {
  const svg = readFileSync(join(root, 'media', 'icon.svg'), 'utf8');
  const browser = await chromium.launch({ executablePath: chromiumExecutable(), args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 256, height: 256 }, deviceScaleFactor: 1 });
    await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
    const png = await page.locator('svg').screenshot({ omitBackground: true });
    writeFileSync(join(root, 'media', 'icon.png'), png);
    console.log(`media/icon.png: ${png.length} bytes`);
  } finally {
    await browser.close();
  }
}

void main();
