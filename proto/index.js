// Entry point of @steppe/proto: the generated static code, with protobufjs set
// to decode 64-bit integers as JavaScript numbers. Every int64/uint64 in the
// schema (milliseconds since the epoch, sequence numbers, byte counts) stays
// below 2^53, and the code is generated with --force-number to match.
import $protobuf from 'protobufjs/minimal.js';

$protobuf.util.Long = undefined;
$protobuf.configure();

export * from './generated/steppe.js';
