/**
 * The rule table's type-level join: each op family (elementwise, reduce, shape, indexing,
 * matmul, conv, softmax, fused) declares, beside its forwards, what each of its primitives saves
 * and its attributes (`XxxSpecs`) and a table `{ [P in XxxPrimitive]: Rule<P> }` that must hold
 * a rule for each. Here the families are joined and checked against `Primitive`: a primitive no
 * family declares makes `PrimitiveSpecs[P]` (and so `Rule<P>`) fail to compile, and a family
 * entry that is not a primitive fails `NoStrays` below. Nothing imports this file at run time:
 * tsc checks it with the rest of src/.
 */
import type { Primitive } from '../autograd/engine.js';
import type { ConvPrimitive, ConvSpecs } from './conv.js';
import type { ElementwisePrimitive, ElementwiseSpecs } from './elementwise.js';
import type { FusedPrimitive, FusedSpecs } from './fused.js';
import type { IndexingPrimitive, IndexingSpecs } from './indexing.js';
import type { MatmulPrimitive, MatmulSpecs } from './matmul.js';
import type { ReducePrimitive, ReduceSpecs } from './reduce.js';
import type { ShapePrimitive, ShapeSpecs } from './shape.js';
import type { SoftmaxPrimitive, SoftmaxSpecs } from './softmax.js';

/** Per primitive, what its rule saves and its attributes (the union of every family's specs). */
export type PrimitiveSpecs = ElementwiseSpecs & ReduceSpecs & ShapeSpecs & IndexingSpecs & MatmulSpecs & ConvSpecs & SoftmaxSpecs & FusedSpecs;

/** The primitives the families declare together. */
export type FamilyPrimitive =
  | ElementwisePrimitive | ReducePrimitive | ShapePrimitive | IndexingPrimitive
  | MatmulPrimitive | ConvPrimitive | SoftmaxPrimitive | FusedPrimitive;

/** true when the families `F` leave no primitive without a rule; false names the gap at the use site. */
export type CoversAll<F extends string> = [Exclude<Primitive, F>] extends [never] ? true : false;

/** true when the families `F` declare nothing that is not a primitive. */
export type NoStrays<F extends string> = [Exclude<F, Primitive>] extends [never] ? true : false;

// The checks themselves: adding a primitive without a family entry, or a family entry that is not
// a primitive, turns one of these into `false` and the assignment into a compile error.
export const familiesCoverEveryPrimitive: CoversAll<FamilyPrimitive> = true;
export const familiesNameOnlyPrimitives: NoStrays<FamilyPrimitive> = true;
