// Entry point of @steppe/proto: the static code generated from
// steppe/v1/steppe.proto. It imports protobufjs through ./runtime.js, which
// makes 64-bit integers JavaScript numbers before any generated code runs.
export * from './generated/steppe.js';
