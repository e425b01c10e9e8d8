import { isLanguage, type Language, LANGUAGES, languageOfLocaleEnvironment, translatorFor, type Translator, UsageError } from '@steppe/shared';

/**
 * The probe's language (docs/translations.md): `--lang en|ru|kk` on any
 * command, else STEPPE_LANG, else the POSIX locale (LC_ALL, LC_MESSAGES,
 * LANG: ru_RU.UTF-8 → ru, kk_KZ.UTF-8 → kk), else English. Error codes,
 * JSON field names, verdict names and --help stay English.
 */

/** The environment variable naming the probe's language. */
export const LANGUAGE_VARIABLE = 'STEPPE_LANG';

function checkLanguage(source: string, value: string): Language {
  if (!isLanguage(value)) throw new UsageError(`${source}: expected one of ${LANGUAGES.join(', ')}, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Take `--lang X` / `--lang=X` out of a command line (every command accepts
 * it) and return the rest, with the environment the command should see: the
 * language resolved and set in STEPPE_LANG. UsageError for a language Steppe
 * has no catalog for, whether from --lang or STEPPE_LANG.
 */
export function resolveLanguageOption(argv: readonly string[], env: NodeJS.ProcessEnv): { argv: string[]; env: NodeJS.ProcessEnv; language: Language } {
  const rest: string[] = [];
  let given: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--lang') {
      given = argv[i + 1];
      if (given === undefined) throw new UsageError('option --lang: expected one of en, ru, kk');
      i += 1;
    } else if (arg.startsWith('--lang=')) {
      given = arg.slice('--lang='.length);
    } else {
      rest.push(arg);
    }
  }
  const language = given !== undefined ? checkLanguage('option --lang', given) : probeLanguage(env);
  return { argv: rest, env: { ...env, [LANGUAGE_VARIABLE]: language }, language };
}

/** The language an environment asks for (STEPPE_LANG, then the POSIX locale). */
export function probeLanguage(env: NodeJS.ProcessEnv): Language {
  const named = env[LANGUAGE_VARIABLE];
  if (named !== undefined && named !== '') return checkLanguage(LANGUAGE_VARIABLE, named);
  return languageOfLocaleEnvironment(env);
}

/** The probe's messages in the language of `env`. */
export function probeText(env: NodeJS.ProcessEnv): Translator {
  return translatorFor(probeLanguage(env), 'probe');
}
