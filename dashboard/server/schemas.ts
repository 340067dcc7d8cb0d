/** Small builders for the routes' JSON schemas (unknown keys are refused everywhere). */
export const str = (maxLength = 200, minLength = 0) => ({ type: 'string', minLength, maxLength }) as const;
/** Epoch milliseconds. */
export const ms = { type: 'integer', minimum: 0, maximum: 8_640_000_000_000_000 } as const;
export const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum }) as const;
export const id = { type: 'string', minLength: 1, maxLength: 256 } as const;

export function obj(properties: Record<string, unknown>, required: string[] = []) {
  return { type: 'object', properties, required, additionalProperties: false } as const;
}

export const params = (name: string) => obj({ [name]: id }, [name]);
