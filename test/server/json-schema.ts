/**
 * A small JSON Schema checker for the subset docs/openapi.json uses, so the tests can hold real answers
 * against the published schemas (the documentation cannot drift from the server unnoticed).
 */
type Schema = Record<string, unknown>;

const typeOf = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

/** The problems of `value` against `schema` (empty when it conforms), as `path: message`. */
export function checkSchema(value: unknown, schema: Schema, root: Schema, path = '$'): string[] {
  if (typeof schema.$ref === 'string') {
    const target = schema.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, key) => (node as Schema)[key], root) as Schema;
    return checkSchema(value, target, root, path);
  }
  const errors: string[] = [];
  const fail = (message: string) => errors.push(`${path}: ${message}`);
  if (schema.type !== undefined) {
    const types = ([] as unknown[]).concat(schema.type);
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number')))
      fail(`expected ${types.join('|')}, got ${t}`);
  }
  if ('const' in schema && value !== schema.const) fail(`expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    fail(`not one of ${JSON.stringify(schema.enum)}`);
  if (
    typeof schema.pattern === 'string' &&
    typeof value === 'string' &&
    !new RegExp(schema.pattern).test(value)
  )
    fail(`does not match ${schema.pattern}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) fail(`below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) fail(`above ${schema.maximum}`);
  }
  for (const key of ['oneOf', 'anyOf'] as const) {
    const options = schema[key] as Schema[] | undefined;
    if (!options) continue;
    const passing = options.filter((o) => checkSchema(value, o, root, path).length === 0).length;
    if (key === 'oneOf' ? passing !== 1 : passing === 0) fail(`matches ${passing} of the ${key} schemas`);
  }
  if (Array.isArray(value) && schema.items)
    value.forEach((item, i) => {
      errors.push(...checkSchema(item, schema.items as Schema, root, `${path}[${i}]`));
    });
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? [])
      if (!(key in obj)) fail(`missing ${key}`);
    const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [key, v] of Object.entries(obj)) {
      if (props[key]) errors.push(...checkSchema(v, props[key], root, `${path}.${key}`));
      else if (schema.additionalProperties === false) fail(`unexpected key ${key}`);
      else if (typeof schema.additionalProperties === 'object')
        errors.push(...checkSchema(v, schema.additionalProperties as Schema, root, `${path}.${key}`));
    }
  }
  return errors;
}
