/**
 * Argument checks that throw the errors Node's own APIs throw, with the same `code`s
 * (ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE), so that users can
 * handle ours as they handle Node's.
 */
import { inspect } from 'node:util';

type CodedError<E extends Error> = E & { code: string };

function coded<E extends Error>(error: E, code: string): CodedError<E> {
  const e = error as CodedError<E>;
  e.code = code;
  // Node shows the code in the name line: "TypeError [ERR_INVALID_ARG_TYPE]: ...".
  Object.defineProperty(e, 'name', { value: `${error.name} [${code}]`, configurable: true });
  void e.stack; // V8 formats the stack lazily: make it now, with the decorated name
  // Back to the class's own name (an own property would shadow the prototype's).
  delete (e as { name?: string }).name;
  return e;
}

function describeReceived(value: unknown): string {
  if (value === null) return 'Received null';
  if (value === undefined) return 'Received undefined';
  if (typeof value === 'function') return `Received function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor?.name;
    return ctor ? `Received an instance of ${ctor}` : `Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `Received type ${typeof value} (${shown})`;
}

export function invalidArgType(name: string, expected: string, actual: unknown): TypeError {
  return coded(
    new TypeError(`The "${name}" argument must be ${expected}. ${describeReceived(actual)}`),
    'ERR_INVALID_ARG_TYPE',
  );
}

export function invalidArgValue(name: string, value: unknown, reason: string): TypeError {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return coded(
    new TypeError(`The argument '${name}' ${reason}. Received ${shown}`),
    'ERR_INVALID_ARG_VALUE',
  );
}

export function outOfRange(name: string, range: string, value: unknown): RangeError {
  return coded(
    new RangeError(
      `The value of "${name}" is out of range. It must be ${range}. Received ${inspect(value)}`,
    ),
    'ERR_OUT_OF_RANGE',
  );
}

export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
}

/** Accepts Buffers, typed arrays and DataViews, returning a Uint8Array view without copying. */
export function toBytes(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', value);
}

/** Like toBytes, and also takes strings (as UTF-8). */
export function toBytesOrString(value: unknown, name: string): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array || ArrayBuffer.isView(value)) return toBytes(value, name);
  throw invalidArgType(
    name,
    'of type string or an instance of Buffer, TypedArray, or DataView',
    value,
  );
}

export function validateInteger(
  value: unknown,
  name: string,
  min: number,
  max: number,
): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}
