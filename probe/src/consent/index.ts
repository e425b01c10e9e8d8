export { CONSENT_ANSWERS, CONSENT_NOTICE, CONSENT_VERSION, consentNotice } from './notice.js';
export {
  CONSENT_FILE_NAME,
  CONSENT_RECORD_VERSION,
  type ConsentMethod,
  type ConsentRecord,
  hasCurrentConsent,
  readConsent,
  recordConsent,
  requireConsent,
} from './consent-record.js';
export { askForConsent, isConsentAnswer } from './prompt.js';
