import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stripInnerHtml } from './no-inner-html.ts';

describe('no-inner-html build plugin', () => {
  it("removes the one innerHTML assignment from the installed Preact's renderer, keeping the reads", () => {
    const file = join(dirname(createRequire(import.meta.url).resolve('preact/package.json')), 'dist/preact.mjs');
    const src = readFileSync(file, 'utf8');
    const out = stripInnerHtml(src);
    expect(out).not.toMatch(/\.innerHTML=/);
    expect(out).toContain('dangerouslySetInnerHTML is disabled');
    expect(out.length).toBeGreaterThan(src.length - 100);
  });
  it('refuses code it does not recognise (a changed Preact fails the build)', () => {
    expect(() => stripInnerHtml('export const x = 1;')).toThrow(/found 0/);
    expect(() => stripInnerHtml('(a.innerHTML=b.__html);(c.innerHTML=d.__html)')).toThrow(/found 2/);
  });
});
