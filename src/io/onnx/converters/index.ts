/** Registers the built-in converters (each file registers its family when loaded). */
import './structure.js';
import './dense.js';
import './activations.js';
import './normalization.js';
import './pooling.js';
import './zoo.js';
