// One picker for tests and benches: a port free on 127.0.0.1 for UDP and TCP a moment ago.
export { freeLoopbackPort } from '../../lib/bench/ports.js';
