// The probe ↔ collector protocol besides the WebSocket frames (codec.ts):
// endpoints, header names, the control messages' JSON form, and what a
// measurement records of an HTTP response.
export { CLIENT_ADDRESS_HEADER, CONTROL_CACHE_HEADER, CONTROL_PATH, INGEST_PATH, endpointUrl } from './endpoints.js';
export { KEPT_RESPONSE_HEADERS } from './recorded-headers.js';
export {
  type ControlJson,
  type ControlMeasurementProps,
  type ControlRequest,
  type ControlRequestProps,
  controlMeasurementFromJson,
  controlMeasurementToJson,
  controlRequestToJson,
} from './control-messages.js';
