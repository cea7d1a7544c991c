// vitest setup file (vitest.config.mts): every test file gets an afterAll that runs the
// cleanups its helpers registered with afterFile() (teardown.ts).
import { afterAll } from 'vitest';

import { runFileTeardown } from './teardown.js';

afterAll(runFileTeardown);
