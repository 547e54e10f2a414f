/// <reference types="@webgpu/types" />
/**
 * Acquiring a WebGPU device: `navigator.gpu` in browsers (and Deno), the `webgpu` npm package
 * (Dawn) in Node. The package is an optional peer dependency, imported dynamically here only, so
 * the core never loads it and bundles never include it.
 */

/** What adapter a device came from, for reports and for backend selection. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (llvmpipe, SwiftShader, WARP, a fallback adapter): its speed means nothing. */
  software: boolean;
  /** One line for reports: 'llvmpipe-… (OpenGL version 4.5 … Mesa 22.3.6) [software]'. */
  label: string;
}

/** How to pick a WebGPU adapter (all optional). */
export interface AcquireOptions {
  /** Dawn toggles/options for the Node package, e.g. ['backend=opengl']. Default: see `acquireDevice`. */
  dawnOptions?: string[];
  powerPreference?: GPUPowerPreference;
  /** Also accept a fallback (software) adapter when the platform offers one. Default true. */
  allowSoftware?: boolean;
}

/** A device and the adapter it came from. */
export interface Acquired {
  device: GPUDevice;
  adapter: GPUAdapter;
  report: AdapterReport;
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|warp|microsoft basic render/i;

/** Names a GPU adapter and tells whether it is a software rasteriser. */
export function describeAdapter(adapter: GPUAdapter): AdapterReport {
  // `info` is newer than the @webgpu/types in the tree (0.1.38); every current implementation has it.
  const info = (adapter as { info?: { vendor?: string; architecture?: string; device?: string; description?: string } }).info;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  // isFallbackAdapter moved from the adapter to its info; older implementations have only the former.
  const fallback = Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter)
    || Boolean((adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter);
  const software = fallback || SOFTWARE.test(`${vendor} ${architecture} ${device} ${description}`);
  const name = [vendor, architecture, device].filter((s) => s !== '').join(' ') || 'unknown adapter';
  const label = `${name}${description !== '' ? ` (${description})` : ''}${software ? ' [software]' : ''}`;
  return { vendor, architecture, device, description, software, label };
}

/** Node: Dawn through the `webgpu` package; null when it is not installed or cannot load here. */
async function nodeGpu(options: string[]): Promise<GPU | null> {
  // A variable specifier keeps bundlers from resolving the optional package into browser bundles.
  const specifier = 'webgpu';
  let mod: { create(options: string[]): GPU; globals: object };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch {
    return null;
  }
  // Dawn's JS objects (GPUBufferUsage, GPUMapMode, …) are globals in a browser; give Node the same.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  const gpu = mod.create(options);
  // Dawn crashes the process (std::system_error from a native destructor) when a GPU instance is
  // garbage-collected while another is in use: keep every instance alive with the module.
  instances.push(gpu);
  return gpu;
}

const instances: GPU[] = [];

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/**
 * A device on the best adapter this runtime offers, or null with the reason. In Node without a
 * GPU, Dawn's Vulkan path rejects Mesa's lavapipe, so the OpenGL backend over EGL (llvmpipe)
 * is the one that works: `EGL_PLATFORM=surfaceless` lets EGL start without a display, and
 * 'compatibility' is the feature level an OpenGL adapter offers.
 */
export async function acquireDevice(options: AcquireOptions = {}): Promise<Acquired | { error: string }> {
  const allowSoftware = options.allowSoftware ?? true;
  // Each candidate makes its GPU object only when the ones before it found no adapter.
  const candidates: { gpu: () => Promise<GPU | null>; featureLevel?: string; hardwareOnly?: boolean }[] = [];
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) candidates.push({ gpu: async () => nav.gpu! });
  else if (isNode()) {
    if (options.dawnOptions) {
      candidates.push({ gpu: () => nodeGpu(options.dawnOptions!), featureLevel: 'compatibility' });
    } else {
      // A real GPU first (Dawn's default backend: Vulkan/Metal/D3D12), then OpenGL (llvmpipe).
      // Dawn's default backend only for a hardware adapter: its Vulkan path over lavapipe is
      // not usable (Dawn rejects it), so software rendering goes through OpenGL.
      candidates.push({ gpu: () => nodeGpu([]), hardwareOnly: true });
      candidates.push({
        gpu: () => {
          if (process.env.EGL_PLATFORM === undefined) process.env.EGL_PLATFORM = 'surfaceless';
          return nodeGpu(['backend=opengl']);
        },
        featureLevel: 'compatibility',
      });
    }
  } else {
    return { error: 'this runtime has no navigator.gpu' };
  }
  let sawSoftware = false;
  for (const c of candidates) {
    const gpu = await c.gpu();
    if (gpu === null) return { error: "the 'webgpu' package is not installed or cannot load here (npm install webgpu)" };
    let adapter: GPUAdapter | null = null;
    try {
      adapter = await gpu.requestAdapter({
        powerPreference: options.powerPreference ?? 'high-performance',
        ...(c.featureLevel ? { featureLevel: c.featureLevel } : {}),
      } as GPURequestAdapterOptions);
    } catch {
      adapter = null;
    }
    if (!adapter) continue;
    const report = describeAdapter(adapter);
    if (report.software && c.hardwareOnly) continue;
    if (report.software && !allowSoftware) {
      sawSoftware = true;
      continue;
    }
    // Ask for what the adapter can do, not the conservative defaults (compatibility mode
    // defaults to 4 storage buffers and 128 invocations per workgroup).
    const wanted = [
      'maxStorageBuffersPerShaderStage', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX',
      'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupStorageSize', 'maxStorageBufferBindingSize', 'maxBufferSize',
    ] as const;
    const requiredLimits: Record<string, number> = {};
    for (const k of wanted) requiredLimits[k] = adapter.limits[k];
    const device = await adapter.requestDevice({ requiredLimits });
    return { device, adapter, report };
  }
  return { error: sawSoftware ? 'only a software adapter is available and allowSoftware is false' : 'no WebGPU adapter is available' };
}
