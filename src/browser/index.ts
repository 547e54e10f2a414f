/**
 * Browser helpers: train in a Web Worker and stream progress to the page. The page calls
 * trainInWorker; the worker script calls exposeTraining. Neither imports anything from Node.
 */
export { trainInWorker, type TrainInWorkerHandlers, type TrainInWorkerOptions, type TrainingJob } from './page.js';
export { exposeTraining, type ExposeTrainingOptions } from './worker.js';
export type { WorkerMessage, StartMessage, BackendChoice, WorkerReadyInfo } from './protocol.js';
export { ISOLATION_HEADERS } from '../backends/wasm/notice.js';
