// Loss functions fill this in.
export {};
