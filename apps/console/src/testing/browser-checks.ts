import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's WCAG 2 A/AA rules on the page as it is; returns the violations, summarised. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const axe = (window as any).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return (result.violations as { id: string; impact: string; nodes: { target: string[] }[] }[]).map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  return violations;
}

/** Every input, select and textarea has an accessible name (its label, aria-label or aria-labelledby). */
export async function unnamedControls(page: Page): Promise<string[]> {
  const controls = page.locator('input:not([type=hidden]), select, textarea');
  const unnamed: string[] = [];
  for (let i = 0; i < (await controls.count()); i++) {
    const control = controls.nth(i);
    const name = await control.evaluate((el) => {
      const element = el as HTMLInputElement;
      const byLabel = Array.from(element.labels ?? [])
        .map((l) => l.textContent ?? '')
        .join(' ');
      const byAria = element.getAttribute('aria-label') ?? '';
      const byRef = (element.getAttribute('aria-labelledby') ?? '')
        .split(/\s+/)
        .map((id) => (id ? (document.getElementById(id)?.textContent ?? '') : ''))
        .join(' ');
      return `${byLabel} ${byAria} ${byRef}`.trim();
    });
    if (!name) unnamed.push(await control.evaluate((el) => el.outerHTML.slice(0, 120)));
  }
  return unnamed;
}
