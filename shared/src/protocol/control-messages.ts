import { steppe } from '@steppe/proto';

/** The control request (steppe.proto ControlRequest). */
export type ControlRequest = steppe.v1.ControlRequest;
export type ControlRequestProps = steppe.v1.ControlRequest.$Properties;
export type ControlMeasurementProps = steppe.v1.ControlMeasurement.$Properties;

/** A control message in its JSON form, as it travels. */
export type ControlJson = Record<string, unknown>;

/**
 * The JSON form of the control messages: protobufjs objects with camelCase
 * field names, every field present, int64 as numbers, bytes in base64. For
 * ControlRequest that is `{"url": ..., "addresses": [...]}`, the body v0.1
 * probes send; the JSON stays on the wire so that collectors keep serving
 * them (docs/design/dd-001-wire-format.md, decision 10).
 */
const JSON_FORM = { longs: Number, bytes: String, defaults: true, arrays: true } as const;

/** The JSON body of `POST /api/v1/control`. */
export function controlRequestToJson(request: ControlRequestProps): ControlJson {
  return steppe.v1.ControlRequest.toObject(steppe.v1.ControlRequest.create(request), JSON_FORM);
}

/** The JSON answer of `POST /api/v1/control`. */
export function controlMeasurementToJson(measurement: ControlMeasurementProps): ControlJson {
  return steppe.v1.ControlMeasurement.toObject(steppe.v1.ControlMeasurement.create(measurement), JSON_FORM);
}

/**
 * A control answer back from its JSON form; undefined when the object does
 * not fit a ControlMeasurement (a field of the wrong type).
 */
export function controlMeasurementFromJson(json: ControlJson): steppe.v1.ControlMeasurement | undefined {
  try {
    return steppe.v1.ControlMeasurement.fromObject(json);
  } catch {
    return undefined;
  }
}
