// Node module hooks for jest's globalSetup. Jest loads that file natively, outside its own
// module system, so moduleNameMapper and ts-jest do not apply to what it imports. These hooks
// let it import the project's TypeScript: `./x.js` resolves to `./x.ts` when only the .ts
// exists, and .ts files are transpiled (no type check; `npm run typecheck` does that).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (specifier.endsWith('.js') && parent?.startsWith('file:') && (specifier.startsWith('.') || specifier.startsWith('file:'))) {
    const js = new URL(specifier, parent);
    const tsUrl = new URL(`${js.href.slice(0, -3)}.ts`);
    if (!existsSync(fileURLToPath(js)) && existsSync(fileURLToPath(tsUrl))) return { url: tsUrl.href, format: 'module', shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts') || url.includes('/node_modules/')) return nextLoad(url, context);
  const fileName = fileURLToPath(url);
  const { outputText } = ts.transpileModule(await readFile(fileName, 'utf8'), {
    fileName,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true, inlineSources: true },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
