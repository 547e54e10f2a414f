/**
 * JSON.parse keeps the last of two equal keys without a word. A safetensors header with a
 * tensor named twice is ambiguous (which offsets are meant?), so the reader must see it.
 * This scanner walks text that JSON.parse already accepted and reports the first key that
 * repeats within one object, with the path of that object.
 */

/** Returns a description of the first duplicate key (e.g. `'w' in the top-level object`), or null. */
export function findDuplicateKey(text: string): string | null {
  // One frame per open container: a Set of keys for an object, null for an array.
  const frames: { keys: Set<string> | null; expectKey: boolean; name: string }[] = [];
  let lastKey = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      const literal = text.slice(start, i + 1);
      i++;
      const top = frames[frames.length - 1];
      if (top !== undefined && top.keys !== null && top.expectKey) {
        const key = JSON.parse(literal) as string;
        if (top.keys.has(key)) return `'${key}' in ${top.name}`;
        top.keys.add(key);
        top.expectKey = false;
        lastKey = key;
      }
      continue;
    }
    if (c === '{' || c === '[') {
      const parent = frames[frames.length - 1];
      const name = parent === undefined ? 'the top-level object' : parent.keys !== null ? `'${lastKey}'` : `an array in ${parent.name}`;
      frames.push({ keys: c === '{' ? new Set() : null, expectKey: c === '{', name });
    } else if (c === '}' || c === ']') {
      frames.pop();
    } else if (c === ',') {
      const top = frames[frames.length - 1];
      if (top !== undefined && top.keys !== null) top.expectKey = true;
    }
    i++;
  }
  return null;
}
