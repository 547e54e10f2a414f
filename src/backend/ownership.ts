/**
 * Whether tensors made now are owned by a scope (g.scope, the Trainer's steps), which disposes
 * them deterministically. The tensor layer counts open scopes here; a backend whose buffers need
 * an explicit free but are tiny JS objects (the wasm backend's resident blocks: they put no
 * pressure on the garbage collector, so the GC safety net could leave them unfreed for a long
 * time) hands such buffers out only inside a scope, and plain GC-owned arrays outside one.
 */
let depth = 0;

export function enterScope(): void {
  depth++;
}

export function exitScope(): void {
  depth--;
}

/** True while at least one scope is open. */
export function inScope(): boolean {
  return depth > 0;
}
