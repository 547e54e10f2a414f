export { Parameter, isParameter, type ParameterTag } from './parameter.js';
