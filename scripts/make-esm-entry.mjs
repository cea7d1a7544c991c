// Writes dist/index.mjs and dist/index.d.mts: the ES module entry re-exports the CommonJS
// build, so `import` and `require` share one module instance (one process-wide node)
// instead of loading two copies of the library.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const names = Object.keys(require('../dist/index.js')).filter((n) => n !== 'default');
const esm =
  `import cjs from './index.js';\n` +
  `export const { ${names.join(', ')} } = cjs;\n` +
  `export default cjs;\n`;
writeFileSync(new URL('../dist/index.mjs', import.meta.url), esm);
writeFileSync(
  new URL('../dist/index.d.mts', import.meta.url),
  `export * from './index.js';\nimport * as all from './index.js';\nexport default all;\n`,
);
