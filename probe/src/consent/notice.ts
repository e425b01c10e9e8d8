import { type ConsentNotice, type Language, loadConsentNotice } from '@steppe/shared';

/**
 * The informed-consent notice shown by `steppe-probe init`, in the
 * volunteer's language: shared/locales/<language>/consent-notice.txt
 * (docs/translations.md). docs/privacy.md carries the English text (a test
 * keeps them equal). A change to what the notice says must bump
 * CONSENT_VERSION, so every operator is asked again; any change to the
 * words of one language changes that text's version (its digest), so those
 * who accepted it are asked again too.
 */
export const CONSENT_VERSION = 1;

/** The notice in `language`, with its sections and version. */
export function consentNotice(language: Language): ConsentNotice {
  return loadConsentNotice(language);
}

/** The English notice, wrapped for a terminal. */
export const CONSENT_NOTICE: string = loadConsentNotice('en').text;

/**
 * What an operator may type to accept, case-insensitively, whatever the
 * notice's language: "yes", Russian «да», Kazakh «иә».
 */
export const CONSENT_ANSWERS: readonly string[] = ['yes', 'да', 'иә'];
