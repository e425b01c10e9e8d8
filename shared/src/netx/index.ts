// Network measurement primitives (built by the probe-engine issue).
export {};
