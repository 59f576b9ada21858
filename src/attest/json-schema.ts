// The JSON Schema keywords the suite's predicate schemas use (draft 2020-12 meanings), checked
// without a dependency: type, const, enum, required, properties, additionalProperties, items,
// minItems/maxItems, minLength/maxLength, pattern, minimum/maximum, $ref to "#/$defs/…", anyOf.
// A keyword outside this list is refused, so a schema cannot silently check less than it says.

export type Schema = { [keyword: string]: unknown };

const KNOWN = new Set([
  '$schema', '$id', '$ref', '$defs', 'title', 'description', 'type', 'const', 'enum', 'required', 'properties',
  'additionalProperties', 'items', 'minItems', 'maxItems', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'anyOf',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** Every way `value` breaks `schema`, as "path: reason" lines (empty: valid). At most `limit` are listed. */
export function schemaErrors(schema: Schema, value: unknown, limit = 20): string[] {
  const errors: string[] = [];
  const root = schema;
  const check = (s: Schema, v: unknown, path: string, out: string[] = errors): void => {
    if (out.length >= limit) return;
    for (const key of Object.keys(s)) if (!KNOWN.has(key)) throw new Error(`schema keyword '${key}' at ${path} is not supported`);
    if (typeof s.$ref === 'string') {
      const name = /^#\/\$defs\/([A-Za-z0-9_-]+)$/.exec(s.$ref)?.[1];
      const target = name ? (root.$defs as Record<string, Schema> | undefined)?.[name] : undefined;
      if (!target) throw new Error(`schema $ref '${s.$ref}' at ${path} does not resolve`);
      check(target, v, path, out);
    }
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      if (!types.some((t) => typeMatches(v, t))) {
        out.push(`${path}: is ${typeOf(v)}, expected ${types.join(' or ')}`);
        return;
      }
    }
    if ('const' in s && JSON.stringify(v) !== JSON.stringify(s.const)) out.push(`${path}: must be ${JSON.stringify(s.const)}`);
    if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) out.push(`${path}: must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`);
    if (Array.isArray(s.anyOf)) {
      const fits = (s.anyOf as Schema[]).some((option) => {
        const found: string[] = [];
        check(option, v, path, found);
        return found.length === 0;
      });
      if (!fits) out.push(`${path}: matches none of the allowed shapes`);
    }
    if (typeof v === 'string') {
      if (typeof s.maxLength === 'number' && [...v].length > s.maxLength) out.push(`${path}: longer than ${s.maxLength} characters`);
      if (typeof s.minLength === 'number' && [...v].length < s.minLength) out.push(`${path}: shorter than ${s.minLength} characters`);
      if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v)) out.push(`${path}: does not match ${s.pattern}`);
    }
    if (typeof v === 'number') {
      if (typeof s.minimum === 'number' && v < s.minimum) out.push(`${path}: below ${s.minimum}`);
      if (typeof s.maximum === 'number' && v > s.maximum) out.push(`${path}: above ${s.maximum}`);
    }
    if (Array.isArray(v)) {
      if (typeof s.maxItems === 'number' && v.length > s.maxItems) out.push(`${path}: more than ${s.maxItems} items`);
      if (typeof s.minItems === 'number' && v.length < s.minItems) out.push(`${path}: fewer than ${s.minItems} items`);
      if (s.items && typeof s.items === 'object') v.forEach((item, i) => check(s.items as Schema, item, `${path}[${i}]`, out));
    }
    if (typeOf(v) === 'object') {
      const object = v as Record<string, unknown>;
      for (const key of (s.required as string[] | undefined) ?? []) if (!(key in object)) out.push(`${path}: lacks '${key}'`);
      const properties = (s.properties as Record<string, Schema> | undefined) ?? {};
      for (const [key, item] of Object.entries(object)) {
        if (properties[key]) check(properties[key], item, `${path}.${key}`, out);
        else if (s.additionalProperties === false) out.push(`${path}: '${key}' is not allowed`);
        else if (s.additionalProperties && typeof s.additionalProperties === 'object') check(s.additionalProperties as Schema, item, `${path}.${key}`, out);
      }
    }
  };
  check(schema, value, '$');
  return errors.slice(0, limit);
}
