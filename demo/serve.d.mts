/** Types of serve.mjs for the TypeScript callers (tests, speed.ts). */
export declare const ISOLATION_HEADERS: Record<string, string>;
export declare function startServer(options?: { isolated?: boolean; port?: number; root?: string }): Promise<{ url: string; close(): Promise<void> }>;
