import { describe, expect, it } from 'vitest';
import { prefersHtml } from './negotiate.ts';

describe('prefersHtml', () => {
  it.each([
    ['text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8', true],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true],
    ['text/html', true],
    ['text/*', true],
    ['application/json;q=0.5, text/html', true],
    [null, false],
    ['', false],
    ['*/*', false],
    ['application/json', false],
    ['text/html, application/json', false],
    ['text/html;q=0, */*', false],
    ['application/json, text/html;q=0.9', false],
    ['garbage', false],
  ])('%s → %s', (accept, html) => {
    expect(prefersHtml(accept)).toBe(html);
  });
});
