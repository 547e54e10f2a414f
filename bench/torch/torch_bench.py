#!/usr/bin/env python3
"""
The PyTorch peer of `npm run bench`: the same workloads as bench/libs/*.ts, in this process only.

The orchestrator (bench/run.ts, through bench/libs/torch.ts) writes the inputs first: the same
seeded weights and data the Node libraries get (bench/data.ts), as raw little-endian arrays plus
manifest.json with the shapes, the model sizes of bench/spec.ts and the time budgets of
bench/budget.ts. Generating them once in Node keeps every library on the very same network and
data, so the first losses can be compared with gradkit's. This script speaks bench/protocol.ts:
one JSON object per stdout line behind the '@@bench ' marker.

Usage: torch_bench.py --inputs DIR --workloads a,b --threads N
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

MARK = '@@bench '


def send(m):
    sys.stdout.write(MARK + json.dumps(m) + '\n')
    sys.stdout.flush()


def peak_rss_mb():
    # Linux reports ru_maxrss in KiB, like Node's resourceUsage().maxRSS.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def first_line(e):
    text = str(e).strip().split('\n')[0]
    return f'{type(e).__name__}: {text}' if text else type(e).__name__


def measure(step, work_per_step, budget, scale):
    """bench/timing.ts's measure(): warm-up, then the median of capped repeats."""
    losses = []

    def run():
        loss = step()
        if loss is not None:
            losses.append(loss)

    budget_s = budget['budgetMs'] / 1000
    start = time.perf_counter()
    run()
    cold = time.perf_counter() - start
    if cold > budget_s:
        v = work_per_step / cold * scale
        return v, losses, f'single cold step ({cold:.1f} s, over the {budget_s:.0f} s budget; includes warm-up)'
    i = 1
    while i < budget['warmupSteps'] and time.perf_counter() - start < budget_s * 0.25:
        run()
        i += 1
    repeats = budget['repeats']
    per_repeat = []
    timed = 0
    shortened = False
    for r in range(repeats):
        left = budget_s - (time.perf_counter() - start)
        if r > 0 and left <= 0:
            break
        cap = max(left, 0) / (repeats - r)
        r0 = time.perf_counter()
        steps = 0
        while steps < budget['stepsPerRepeat']:
            run()
            steps += 1
            if time.perf_counter() - r0 > cap and steps < budget['stepsPerRepeat']:
                shortened = True
                break
        elapsed = time.perf_counter() - r0
        per_repeat.append(steps * work_per_step / elapsed * scale)
        timed += steps
    caveat = None
    if len(per_repeat) < repeats or shortened:
        caveat = f"time-capped: {len(per_repeat)} of {repeats} repeats, {timed} timed step{'' if timed == 1 else 's'}"
    return statistics.median(per_repeat), losses, caveat


def load_arrays(torch, folder, entries):
    out = {}
    for e in entries:
        dtype = {'float32': torch.float32, 'int32': torch.int32}[e['dtype']]
        with open(os.path.join(folder, e['file']), 'rb') as f:
            raw = bytearray(f.read())
        t = torch.frombuffer(raw, dtype=dtype).reshape(e['shape']).clone()
        out[e['name']] = t.long() if dtype == torch.int32 else t
    return out


def make_loss(torch, kind, p, spec):
    """The networks of bench/spec.ts, NCHW as the shared data is; linear weights are [in, out]."""
    F = torch.nn.functional
    if kind == 'mlp':
        def loss(x, y):
            h = F.relu(torch.addmm(p['b1'], x, p['w1']))
            h = F.relu(torch.addmm(p['b2'], h, p['w2']))
            return F.cross_entropy(torch.addmm(p['b3'], h, p['w3']), y)
        return loss
    if kind == 'cnn':
        def loss(x, y):
            h = F.max_pool2d(F.relu(F.conv2d(x, p['conv1.w'], p['conv1.b'])), 2)
            h = F.max_pool2d(F.relu(F.conv2d(h, p['conv2.w'], p['conv2.b'])), 2)
            return F.cross_entropy(torch.addmm(p['fc.b'], h.flatten(1), p['fc.w']), y)
        return loss
    if kind == 'resnet':
        eps = spec['resnet']['eps']

        def conv_bn(x, conv, bn):
            # Training-mode BatchNorm from batch statistics, no running averages (as the spec says).
            return F.batch_norm(F.conv2d(x, p[conv], padding=1), None, None, p[f'{bn}.gamma'], p[f'{bn}.beta'], training=True, eps=eps)

        def loss(x, y):
            h = F.relu(conv_bn(x, 'stem.w', 'stem.bn'))
            for b in range(spec['resnet']['blocks']):
                r = conv_bn(F.relu(conv_bn(h, f'block{b}.conv1.w', f'block{b}.bn1')), f'block{b}.conv2.w', f'block{b}.bn2')
                h = F.relu(r + h)
            return F.cross_entropy(torch.addmm(p['fc.b'], h.mean((2, 3)), p['fc.w']), y)
        return loss
    raise ValueError(f'unknown model kind {kind!r}')


def stepper(torch, folder, w, spec):
    """(step, work per step, scale) for one workload; everything is built outside the timed region."""
    arrays = load_arrays(torch, folder, w['arrays'])
    if w['kind'] == 'sgemm':
        a, b = arrays['a'], arrays['b']
        m, k = a.shape
        n = b.shape[1]

        def step():
            torch.mm(a, b)  # eager and synchronous on the CPU: the product is done on return
        return step, 2 * m * k * n, 1e-9
    params = {name: arrays[name].requires_grad_() for name in w['params']}
    loss_fn = make_loss(torch, w['kind'], params, spec)
    adam = spec['adam']
    opt = torch.optim.Adam(list(params.values()), lr=adam['lr'], betas=(adam['beta1'], adam['beta2']), eps=adam['eps'])
    batch = w['batch']
    x, y = arrays['x'], arrays['y']
    batches = [(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]) for i in range(x.shape[0] // batch)]
    counter = [0]

    def step():
        bx, by = batches[counter[0] % len(batches)]
        counter[0] += 1
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(bx, by)
        loss.backward()
        opt.step()
        return loss.item()
    return step, batch, 1


def blas_of(torch):
    """The BLAS library really loaded (Debian builds say BLAS_INFO=generic: the alternatives decide)."""
    torch.mm(torch.ones(8, 8), torch.ones(8, 8))
    try:
        with open('/proc/self/maps') as f:
            libs = sorted({os.path.basename(os.path.realpath(line.split()[-1])) for line in f
                           if 'blas' in line.lower() and line.split()[-1].startswith('/')})
        openblas = [name for name in libs if name.startswith('libopenblas')]
        if openblas:
            return f"OpenBLAS {', '.join(openblas)}"
        if libs:
            return ', '.join(libs)
    except OSError:
        pass  # not Linux: fall back to the build's own claim
    for line in torch.__config__.show().split('\n'):
        if 'BLAS_INFO=' in line:
            return line.split('BLAS_INFO=')[1].split(',')[0].strip()
    return 'unknown BLAS'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--inputs', required=True)
    ap.add_argument('--workloads', required=True)
    ap.add_argument('--threads', type=int, required=True)
    args = ap.parse_args()
    try:
        import torch
    except Exception as e:
        send({'type': 'fatal', 'message': f'could not start: cannot import torch ({first_line(e)})'})
        return 1
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.inputs, 'manifest.json')) as f:
        manifest = json.load(f)
    spec = manifest['spec']
    threads = torch.get_num_threads()
    # Checked here, in the process that runs: the orchestrator meant to remove both.
    still_set = [k for k in ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE') if k in os.environ]
    send({'type': 'info', 'library': 'pytorch', 'threads': threads,
          'describe': f"PyTorch {torch.__version__} (CPU, {blas_of(torch)}), {threads} thread{'' if threads == 1 else 's'}, "
                      f"Python {sys.version.split()[0]}" + (f"; WARNING: {', '.join(still_set)} still set" if still_set else '')})
    for name in [w for w in args.workloads.split(',') if w]:
        send({'type': 'start', 'workload': name})
        w = manifest['workloads'][name]
        base = {'workload': name, 'library': 'pytorch', 'threads': threads, 'unit': w['unit']}
        try:
            step, work, scale = stepper(torch, args.inputs, w, spec)
            value, losses, caveat = measure(step, work, w['budget'], scale)
            result = dict(base, value=value, **({'note': caveat} if caveat else {}))
            send({'type': 'result', 'result': result, 'losses': losses, 'peakRssMB': peak_rss_mb()})
        except Exception as e:
            send({'type': 'result', 'result': dict(base, value=None, note=f'cannot run: {first_line(e)}'), 'peakRssMB': peak_rss_mb()})
    send({'type': 'done', 'peakRssMB': peak_rss_mb()})
    return 0


if __name__ == '__main__':
    sys.exit(main())
