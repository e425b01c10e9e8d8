// The protobufjs runtime the generated code imports (proto/scripts/generate.mjs
// points pbjs's --dependency here), configured to read and write 64-bit
// integers as JavaScript numbers. Every int64/uint64 in the schema is a
// millisecond time, a sequence number or a byte count, all below 2^53
// (docs/design/dd-001-wire-format.md).
//
// Why here and not in index.js: the generated module fills its prototypes'
// int64 defaults (`$util.Long ? Long.fromBits(0, 0) : 0`) while it is
// evaluated, and ES modules evaluate a module's dependencies before the
// module itself — so the configuration must be a dependency of the generated
// code. Configuring after `export * from './generated/steppe.js'` left every
// absent int64 a Long `{low: 0, high: 0}`.
import $protobuf from 'protobufjs/minimal.js';

$protobuf.util.Long = undefined;
$protobuf.configure();

export default $protobuf;
