// A broken test plugin: it exports no plugin object.
export const something = 42
