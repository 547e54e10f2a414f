// The optimizers package (SGD, Adam, ...) fills this in.
export {};
