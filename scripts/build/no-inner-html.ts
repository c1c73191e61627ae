// Vite plugin: takes the one `innerHTML` assignment out of Preact's renderer (its `dangerouslySetInnerHTML`
// support). The extension never renders raw HTML, so no code path in it can parse markup into the DOM —
// and Mozilla's linter (`web-ext lint`, UNSAFE_VAR_ASSIGNMENT) has nothing left to warn about. The build
// fails if a Preact upgrade changes the code, rather than shipping it unpatched.
import type { Plugin } from 'vite';

const PREACT = /[\\/]preact[\\/]dist[\\/]preact\.mjs$/;
/** `(t.innerHTML=h.__html)` in the minified renderer (identifier names vary between releases). */
const ASSIGNMENT = /\(([\w$]+)\.innerHTML=([\w$]+)\.__html\)/g;
const REFUSAL = '(()=>{throw new Error("dangerouslySetInnerHTML is disabled in L402 Autopilot")})()';

/** Rewrites Preact's renderer source; throws unless exactly one assignment was found. */
export function stripInnerHtml(code: string): string {
  const found = code.match(ASSIGNMENT)?.length ?? 0;
  if (found !== 1) throw new Error(`expected one innerHTML assignment in preact.mjs, found ${found}`);
  return code.replace(ASSIGNMENT, REFUSAL);
}

export function noInnerHtml(): Plugin {
  return {
    name: 'l402-autopilot:no-inner-html',
    apply: 'build',
    transform(code, id) {
      if (!PREACT.test(id.split('?')[0] ?? id)) return null;
      return { code: stripInnerHtml(code), map: null };
    },
  };
}
