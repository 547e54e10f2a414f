import * as g from '../../src/index.js';
import { expectThrowsMsg } from '../helpers.js';
import { testAllBackends } from './backends.js';

// Every bad call must throw a GradkitError naming the op, what it got and what it expected.
type Case = [string, () => unknown, ...RegExp[]];

const t = (shape: number[]) => g.zeros(shape);
const ints = (v: number[]) => g.tensor(v, { dtype: 'int32' });
// `as never` lets a test pass what the types forbid, as a JavaScript caller could.
const bad = <T>(v: unknown): T => v as T;

const ELEMENTWISE: Case[] = [
  ['add broadcast', () => g.add(t([2, 3]), t([4])), /^add:/, /\[2, 3\]/, /\[4\]/, /cannot be broadcast/],
  ['mul broadcast', () => g.mul(t([2, 3, 4]), t([3, 1, 5])), /^mul:/, /\[2, 3, 4\] and \[3, 1, 5\]/],
  ['both numbers', () => g.add(bad(1), bad(2)), /^add:/, /at least one argument must be a Tensor/],
  ['string operand', () => g.sub(t([2]), bad('1')), /^sub:/, /expected a Tensor or a number, got string/],
  ['unary non-tensor', () => g.exp(bad([1, 2])), /^exp:/, /input must be a Tensor/],
  ['sqrt of int', () => g.sqrt(ints([4])), /^sqrt:/, /expected a float tensor, got int32/],
  ['log of bool', () => g.log(g.tensor([true])), /^log:/, /got bool/],
  ['neg of bool', () => g.neg(g.tensor([true])), /^neg:/, /bool/, /logicalNot/],
  ['int to a negative power', () => g.pow(ints([2, 3]), ints([1, -1])), /^pow:/, /negative/, /-1/],
  ['where cond dtype', () => g.where(t([2]), 1, 0), /^where:/, /cond must be a bool tensor/, /float32/],
  ['where broadcast', () => g.where(g.tensor([true, false]), t([3]), 0), /^where:/, /\[2\] and \[3\]/],
  ['clamp without bounds', () => g.clamp(t([2])), /^clamp:/, /at least one of min and max/],
  ['clamp NaN', () => g.clamp(t([2]), NaN), /^clamp:/, /min is NaN/],
  ['clamp min > max', () => g.clamp(t([2]), 2, 1), /^clamp:/, /min \(2\) is greater than max \(1\)/],
  ['cast unknown dtype', () => g.cast(t([2]), bad('float16')), /^cast:/, /unknown dtype 'float16'/],
  ['cast NaN to int', () => g.cast(g.tensor([1, NaN]), 'int32'), /^cast:/, /NaN/, /position 1/, /int32/],
  ['cast inf to int', () => g.cast(g.tensor([Infinity]), 'int32'), /^cast:/, /Infinity/],
];

const REDUCE: Case[] = [
  ['sum axis out of range', () => g.sum(t([2, 3]), 2), /^sum:/, /axis 2 is out of range/, /rank 2/, /-2\.\.1/],
  ['mean negative axis out of range', () => g.mean(t([2, 3]), -3), /^mean:/, /axis -3/],
  ['non-integer axis', () => g.sum(t([2, 3]), 0.5), /^sum:/, /axis must be an integer, got 0.5/],
  ['repeated axes', () => g.sum(t([2, 3]), [1, -1]), /^sum:/, /repeated/],
  ['axis of a 0-d tensor', () => g.sum(g.scalar(1), 0), /^sum:/, /0-d tensor has no axes/],
  ['max over an empty axis', () => g.max(t([2, 0]), 1), /^max:/, /empty axis/, /\[2, 0\]/],
  ['mean over an empty axis', () => g.mean(t([0, 3]), 0), /^mean:/, /empty axis/],
  ['var with too few elements', () => g.variance(t([1, 3]), 0), /^var:/, /correction=1/, /got 1/],
  ['var correction NaN', () => g.variance(t([4]), 0, { correction: NaN }), /^var:/, /correction/, /NaN/],
  ['var correction negative', () => g.variance(t([4]), 0, { correction: -1 }), /^var:/, /correction/, /-1/],
  ['logSumExp of int', () => g.logSumExp(ints([1, 2])), /^logSumExp:/, /float tensor/, /int32/],
  ['argmax of empty', () => g.argmax(t([0])), /^argmax:/, /empty/],
  ['argmax over an empty axis', () => g.argmax(t([3, 0]), 1), /^argmax:/, /axis 1 of size 0/, /\[3, 0\]/],
  ['argmin axis out of range', () => g.argmin(t([2, 2]), 3), /^argmin:/, /axis 3 is out of range/],
];

const SHAPE: Case[] = [
  ['reshape size mismatch', () => g.reshape(t([2, 3]), [4]), /^reshape:/, /\[2, 3\]/, /\[4\]/, /6 elements/],
  ['reshape two -1', () => g.reshape(t([2, 3]), [-1, -1]), /^reshape:/, /only one dimension can be -1/],
  ['reshape -1 not divisible', () => g.reshape(t([2, 3]), [-1, 4]), /^reshape:/, /\[-1, 4\]/],
  ['reshape -1 ambiguous', () => g.reshape(t([0, 4]), [2, 0, -1]), /^reshape:/, /\[2, 0, -1\]/],
  ['reshape negative', () => g.reshape(t([2, 3]), [-2, -3]), /^reshape:/, /non-negative/],
  ['permute not a permutation', () => g.permute(t([2, 3, 4]), [0, 0, 1]), /^permute:/, /not a permutation/, /\[2, 3, 4\]/],
  ['permute wrong length', () => g.permute(t([2, 3]), [0]), /^permute:/, /not a permutation/],
  ['permute axis out of range', () => g.permute(t([2, 3]), [0, 2]), /^permute:/, /axis 2/],
  ['transpose axis out of range', () => g.transpose(t([2, 3]), 0, 5), /^transpose:/, /axis 5/],
  ['squeeze non-1 axis', () => g.squeeze(t([2, 1]), 0), /^squeeze:/, /axis 0 has size 2, not 1/, /\[2, 1\]/],
  ['unsqueeze out of range', () => g.unsqueeze(t([2, 3]), 4), /^unsqueeze:/, /axis 4/, /rank 3/],
  ['flatten reversed', () => g.flatten(t([2, 3, 4]), 2, 1), /^flatten:/, /startAxis \(2\) comes after endAxis \(1\)/],
  ['expand incompatible', () => g.expand(t([2, 3]), [2, 4]), /^expand:/, /\[2, 3\]/, /\[2, 4\]/],
  ['expand to fewer dims', () => g.expand(t([2, 3]), [3]), /^expand:/, /fewer dimensions/],
  ['slice step 0', () => g.slice(t([4]), [0], [4], [0]), /^slice:/, /step for axis 0 must be a positive integer, got 0/],
  ['slice negative step', () => g.slice(t([4]), [0], [4], [-1]), /^slice:/, /got -1/],
  ['slice too many axes', () => g.slice(t([4]), [0, 0]), /^slice:/, /more axes/, /\[4\]/],
  ['slice fractional bound', () => g.slice(t([4]), [0.5]), /^slice:/, /integers/, /0.5/],
  ['concat shape mismatch', () => g.concat([t([2, 3]), t([2, 4])], 0), /^concat:/, /tensor 1 has shape \[2, 4\]/, /\[2, 3\]/, /axis 0/],
  ['concat dtype mismatch', () => g.concat([t([2]), ints([1])]), /^concat:/, /tensor 1 has dtype int32/, /float32/],
  ['concat rank mismatch', () => g.concat([t([2, 3]), t([3])], 0), /^concat:/, /\[3\]/],
  ['concat empty list', () => g.concat([]), /^concat:/, /non-empty/],
  ['concat 0-d', () => g.concat([g.scalar(1), g.scalar(2)]), /^concat:/, /0-d/, /stack/],
  ['concat axis out of range', () => g.concat([t([2]), t([2])], 1), /^concat:/, /axis 1/],
  ['concat non-tensor', () => g.concat([t([2]), bad(3)]), /^concat:/, /tensor 1 must be a Tensor/],
  ['stack unequal shapes', () => g.stack([t([2]), t([3])]), /^stack:/, /tensor 1 has shape \[3\]/, /\[2\]/],
  ['stack axis out of range', () => g.stack([t([2]), t([2])], 3), /^stack:/, /axis 3/],
  ['split not divisible', () => g.split(t([5, 2]), 2), /^split:/, /size 5 into 2 equal pieces/],
  ['split sizes wrong sum', () => g.split(t([5, 2]), [2, 2]), /^split:/, /summing to 5/, /\[5, 2\]/],
  ['pad negative', () => g.pad(t([2]), [[-1, 0]]), /^pad:/, /non-negative/, /\[-1, 0\]/],
  ['pad too many axes', () => g.pad(t([2]), [[0, 0], [1, 1]]), /^pad:/, /2 axes/, /\[2\]/],
  ['reshape to a number', () => g.reshape(t([2, 3]), bad(6)), /^reshape:/, /shape must be an array, got 6/],
  ['expand to a number', () => g.expand(t([2, 3]), bad(5)), /^expand:/, /shape must be an array, got 5/],
  ['permute with a string', () => g.permute(t([2, 3]), bad('10')), /^permute:/, /perm must be an array, got "10"/],
  ['slice with a number', () => g.slice(t([2, 3]), bad(1)), /^slice:/, /begin must be an array, got 1/],
  ['pad with a flat pair', () => g.pad(t([2, 3]), bad([1, 1])), /^pad:/, /padding for axis 0/, /must be an array, got 1/],
  ['squeeze with a string axis', () => g.squeeze(t([1, 3]), bad('0')), /^squeeze:/, /axis must be an integer, got "0"/],
  ['pad NaN value', () => g.pad(t([2]), [[1, 1]], NaN), /^pad:/, /finite/, /NaN/],
];

const INDEXING: Case[] = [
  ['indexSelect float indices', () => g.indexSelect(t([3, 2]), 0, g.tensor([0, 1])), /^indexSelect:/, /indices must be int32, got float32/],
  ['indexSelect index out of range', () => g.indexSelect(t([3, 2]), 0, ints([0, 3])), /^indexSelect:/, /index 3 at position 1/, /size 3/],
  ['indexSelect negative out of range', () => g.indexSelect(t([3, 2]), 1, ints([-3])), /^indexSelect:/, /index -3/, /size 2/],
  ['indexSelect 2-D indices', () => g.indexSelect(t([3, 2]), 0, g.tensor([[0]], { dtype: 'int32' })), /^indexSelect:/, /1-D/, /\[1, 1\]/],
  ['indexSelect axis', () => g.indexSelect(t([3, 2]), 2, ints([0])), /^indexSelect:/, /axis 2/],
  ['gather rank mismatch', () => g.gather(t([2, 3]), 1, ints([0, 1])), /^gather:/, /same rank/, /\[2\]/, /\[2, 3\]/],
  ['gather index too large', () => g.gather(t([2, 3]), 1, g.tensor([[0], [1], [2]], { dtype: 'int32' })), /^gather:/, /\[3, 1\]/, /exceeds/, /axis 0/],
  ['gather out of range', () => g.gather(t([2, 3]), 1, g.tensor([[0], [7]], { dtype: 'int32' })), /^gather:/, /index 7 at position 1/, /size 3/],
  ['gather float index', () => g.gather(t([2, 3]), 1, g.tensor([[0], [1]])), /^gather:/, /int32/],
  ['oneHot label too large', () => g.oneHot(ints([0, 3]), 3), /^oneHot:/, /label 3 at position 1 is outside \[0, 3\)/],
  ['oneHot negative label', () => g.oneHot(ints([-1]), 3), /^oneHot:/, /label -1/],
  ['oneHot numClasses', () => g.oneHot(ints([0]), 0), /^oneHot:/, /numClasses must be a positive integer, got 0/],
  ['oneHot fractional label', () => g.oneHot(g.tensor([0.5]), 2), /^oneHot:/, /label 0.5 at position 0 is not an integer/],
];

const MATMUL: Case[] = [
  ['inner mismatch', () => g.matmul(t([2, 3]), t([4, 5])), /^matmul:/, /\[2, 3\] @ \[4, 5\]/, /3 vs 4/],
  ['vector mismatch', () => g.matmul(t([3]), t([4])), /^matmul:/, /\[3\] @ \[4\]/],
  ['batch mismatch', () => g.matmul(t([2, 3, 4]), t([3, 4, 5])), /^matmul:/, /\[2\] and \[3\]/, /cannot be broadcast/],
  ['0-d operand', () => g.matmul(g.scalar(1), t([2])), /^matmul:/, /at least 1-D/, /\[\] and \[2\]/],
  ['int operand', () => g.matmul(g.tensor([[1]], { dtype: 'int32' }), t([1, 1])), /^matmul:/, /float/, /int32/],
  ['non-tensor', () => g.matmul(t([2, 2]), bad([[1, 2], [3, 4]])), /^matmul:/, /b must be a Tensor/],
  ['bmm of 2-D', () => g.bmmOp(t([2, 2]), t([2, 2, 2])), /^bmm:/, /3-D/, /\[2, 2\] and \[2, 2, 2\]/],
];

const SOFTMAX: Case[] = [
  ['softmax of int', () => g.softmax(ints([1, 2])), /^softmax:/, /float tensor/, /int32/],
  ['softmax axis', () => g.softmax(t([2, 3]), 2), /^softmax:/, /axis 2 is out of range/],
  ['logSoftmax axis', () => g.logSoftmax(t([2, 3]), -3), /^logSoftmax:/, /axis -3/],
];

const CONV: Case[] = [
  ['input not 4-D', () => g.conv2d(t([3, 5, 5]), t([2, 3, 3, 3])), /^conv2d:/, /input must be 4-D/, /\[3, 5, 5\]/],
  ['weight not 4-D', () => g.conv2d(t([1, 3, 5, 5]), t([2, 3, 3])), /^conv2d:/, /weight must be 4-D/, /\[2, 3, 3\]/],
  ['channel mismatch', () => g.conv2d(t([1, 3, 5, 5]), t([2, 2, 3, 3])), /^conv2d:/, /weight \[2, 2, 3, 3\] expects 2 input channels/, /\[1, 3, 5, 5\] has 3/],
  ['groups do not divide', () => g.conv2d(t([1, 4, 5, 5]), t([3, 2, 3, 3]), null, { groups: 2 }), /^conv2d:/, /output channels \(3\)/, /divisible by groups \(2\)/],
  ['groups zero', () => g.conv2d(t([1, 4, 5, 5]), t([4, 4, 3, 3]), null, { groups: 0 }), /^conv2d:/, /groups must be a positive integer, got 0/],
  ['stride zero', () => g.conv2d(t([1, 1, 5, 5]), t([1, 1, 3, 3]), null, { stride: 0 }), /^conv2d:/, /stride must be an integer >= 1/, /0/],
  ['negative padding', () => g.conv2d(t([1, 1, 5, 5]), t([1, 1, 3, 3]), null, { padding: [1, -1] }), /^conv2d:/, /padding/, /\[1,-1\]/],
  ['fractional dilation', () => g.conv2d(t([1, 1, 5, 5]), t([1, 1, 3, 3]), null, { dilation: 1.5 }), /^conv2d:/, /dilation/, /1.5/],
  ['pair of three', () => g.conv2d(t([1, 1, 5, 5]), t([1, 1, 3, 3]), null, { stride: bad([1, 1, 1]) }), /^conv2d:/, /stride/, /\[1,1,1\]/],
  ['unknown padding string', () => g.conv2d(t([1, 1, 5, 5]), t([1, 1, 3, 3]), null, { padding: bad('full') }), /^conv2d:/, /padding/, /full/],
  ["'same' with stride 2", () => g.conv2d(t([1, 1, 5, 5]), t([1, 1, 3, 3]), null, { padding: 'same', stride: 2 }), /^conv2d:/, /'same' needs stride 1/, /\[2, 2\]/],
  ['kernel larger than input', () => g.conv2d(t([1, 1, 2, 2]), t([1, 1, 3, 3])), /^conv2d:/, /kernel 3×3/, /larger than the padded input 2×2/, /\[1, 1, 2, 2\]/],
  ['dilated kernel too large', () => g.conv2d(t([1, 1, 4, 4]), t([1, 1, 2, 2]), null, { dilation: 4 }), /^conv2d:/, /dilation 4×4/],
  ['bias shape', () => g.conv2d(t([1, 1, 3, 3]), t([2, 1, 1, 1]), t([3])), /^conv2d:/, /bias must have shape \[2\]/, /got \[3\]/],
  ['null options are defaults, bad ones still named', () => g.conv2d(t([1, 1, 2, 2]), t([1, 1, 3, 3]), null, bad(null)), /^conv2d:/, /kernel 3×3/],
  ['int input', () => g.conv2d(g.zeros([1, 1, 3, 3], { dtype: 'int32' }), t([1, 1, 1, 1])), /^conv2d:/, /float tensor, got int32/],
];

const POOL: Case[] = [
  ['pool input not 4-D', () => g.maxPool2d(t([4, 4]), { kernelSize: 2 }), /^maxPool2d:/, /4-D/, /\[4, 4\]/],
  ['pool kernel missing', () => g.avgPool2d(t([1, 1, 4, 4]), bad({})), /^avgPool2d:/, /kernelSize is required/],
  ['pool kernel zero', () => g.maxPool2d(t([1, 1, 4, 4]), { kernelSize: 0 }), /^maxPool2d:/, /kernelSize must be an integer >= 1/],
  ['pool padding too large', () => g.maxPool2d(t([1, 1, 4, 4]), { kernelSize: 2, padding: 2 }), /^maxPool2d:/, /padding \[2, 2\] must be at most half the kernel \[2, 2\]/],
  ['pool kernel larger than input', () => g.avgPool2d(t([1, 1, 2, 2]), { kernelSize: 3 }), /^avgPool2d:/, /kernel 3×3 is larger/, /\[1, 1, 2, 2\]/],
  ['pool int input', () => g.avgPool2d(g.zeros([1, 1, 2, 2], { dtype: 'int32' }), { kernelSize: 2 }), /^avgPool2d:/, /int32/],
  ['pool options null', () => g.maxPool2d(t([1, 1, 4, 4]), bad(null)), /^maxPool2d:/, /kernelSize is required/],
  ['pool stride zero', () => g.avgPool2d(t([1, 1, 4, 4]), { kernelSize: 2, stride: 0 }), /^avgPool2d:/, /stride/],
];

const FAMILIES: [string, Case[]][] = [
  ['elementwise', ELEMENTWISE], ['reduce', REDUCE], ['shape', SHAPE], ['indexing', INDEXING],
  ['matmul', MATMUL], ['softmax', SOFTMAX], ['conv2d', CONV], ['pool', POOL],
];

/** Each case must throw its GradkitError at once or, for checks made on a GPU, at the next read. */
async function expectCases(cases: Case[]): Promise<void> {
  for (const [name, fn, ...patterns] of cases) {
    try {
      await expectThrowsMsg(fn, ...patterns);
    } catch (e) {
      (e as Error).message = `[${name}] ${(e as Error).message}`;
      throw e;
    }
  }
}

for (const [family, cases] of FAMILIES) {
  testAllBackends(`${family} errors name the op, the offending shapes/values and what was expected`, () => expectCases(cases));
}
