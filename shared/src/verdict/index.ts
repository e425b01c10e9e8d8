// The verdict engine (built by the probe-engine issue).
export {};
