/**
 * @module core/signup/visitor-text
 * Everything a visitor reads, per form: built-in texts in English, French, Spanish and German (the
 * profile's `language`), overridden by the profile's `messages`. Used by embed.js and the built-in
 * pages. English is every table's fallback: a new message is untranslated, never missing.
 */
import type { ErrorCode } from '../app/errors.ts'
import type { LabelKey } from './form-fields.ts'

export const LANGUAGES = ['en', 'fr', 'es', 'de'] as const
export type Language = (typeof LANGUAGES)[number]
export const LANGUAGE_NAMES: Record<Language, string> = {
  en: 'English',
  fr: 'Français',
  es: 'Español',
  de: 'Deutsch',
}

/** The texts an owner may reword per form (`messages` in a profile). */
export const MESSAGE_KEYS = [
  'success',
  'sending',
  'network',
  'invalid_input',
  'challenge_failed',
  'rate_limited',
  'delivery_failed',
  'unavailable',
] as const
export type MessageKey = (typeof MESSAGE_KEYS)[number]

/** The field messages of validate-signup.ts, in English: every other language falls back to them. */
export const FIELD_MESSAGES = {
  emailMissing: 'Enter your email address.',
  emailInvalid: 'Enter a valid email address.',
  required: 'Fill in this field.',
  notAllowed: 'Contains characters that are not allowed.',
  unknownList: 'Unknown list.',
  chooseList: 'Choose at least one list.',
  consentRequired: 'Tick the box to give your consent.',
  unknownField: 'Unknown field.',
  month: 'Enter a month from 1 to 12.',
  day: 'Enter a day from 1 to 31.',
  monthMissing: 'Enter the month of the birthday too.',
  dayMissing: 'Enter the day of the birthday too.',
  noSuchDay: 'That month does not have that many days.',
  dateFormat: 'Enter a date such as 06/15/2020 or 2020-06-15.',
  noSuchDate: 'That date does not exist.',
  token: 'The verification token is not valid.',
  tooLong: 'Use at most {n} characters.',
  // Typed custom fields (field-types.ts).
  trueFalse: 'Answer true or false.',
  number: 'Enter a number.',
  wholeNumber: 'Enter a whole number.',
  decimals: 'Too many decimals: at most {n}.',
  negative: 'Enter a number of zero or more.',
} as const

type FieldMessage = keyof typeof FIELD_MESSAGES

export interface VisitorText {
  lang: Language
  /** embed.js after a sign-up, and the thank-you page. */
  success: string
  /** embed.js while the answer is awaited (in the snippet). */
  sending: string
  /** embed.js when the relay cannot be reached (in the snippet). */
  network: string
  thanks_title: string
  error_title: string
  back: string
  /** The snippet's email label and button. */
  email: string
  subscribe: string
  /** The snippet's legend over the lists a visitor may tick, and its privacy link. */
  lists_legend: string
  privacy: string
  /**
   * After `delivery_failed`, when the owner has an alert channel (ALERT_WEBHOOK_URL): only then is
   * it true that they were told.
   */
  owner_notified: string
  /** The snippet's labels of the standard fields (form-fields.ts), and of their two groups. */
  labels: Record<Exclude<LabelKey, 'email'>, string>
  /** By error code; absent: accept-signup.ts's English. */
  errors: Partial<Record<ErrorCode, string>>
  /** By FIELD_MESSAGES key; absent: the English there. `{n}` is a number. */
  fields: Partial<Record<FieldMessage, string>>
}

/** The English of accept-signup.ts's VISITOR_MESSAGES, which `visitorText` adds to. */
export const DELIVERY_FAILED_EN = 'We could not complete your sign-up. Please try again later.'

const EN: VisitorText = {
  lang: 'en',
  success: 'Thanks! You are signed up.',
  sending: 'Sending…',
  network: 'Could not reach the sign-up service. Please try again.',
  thanks_title: 'Thanks for signing up!',
  error_title: 'Sign-up not completed',
  back: 'Back to the site',
  email: 'Email',
  subscribe: 'Subscribe',
  lists_legend: 'Lists to join',
  privacy: 'Privacy policy',
  owner_notified: 'The site owner has been notified.',
  labels: {
    first_name: 'First name',
    last_name: 'Last name',
    job_title: 'Job title',
    company_name: 'Company',
    phone_number: 'Phone',
    birthday: 'Birthday',
    birthday_month: 'Month',
    birthday_day: 'Day',
    anniversary: 'Anniversary',
    address: 'Address',
    street: 'Street',
    city: 'City',
    state: 'State or region',
    postal_code: 'Postal code',
    country: 'Country',
  },
  errors: {},
  fields: {},
}

// Errors only a site's developer meets (payload_too_large, unsupported_media_type) and junk
// (an over-long Turnstile token) stay in English.
const BUILT_IN: Record<Language, VisitorText> = {
  en: EN,
  fr: {
    lang: 'fr',
    success: 'Merci ! Votre inscription est enregistrée.',
    sending: 'Envoi…',
    network: 'Le service d’inscription est injoignable. Veuillez réessayer.',
    thanks_title: 'Merci de votre inscription !',
    error_title: 'Inscription non effectuée',
    back: 'Retour au site',
    email: 'Adresse e-mail',
    subscribe: 'S’inscrire',
    lists_legend: 'Listes à rejoindre',
    privacy: 'Politique de confidentialité',
    owner_notified: 'Le responsable du site est prévenu.',
    labels: {
      first_name: 'Prénom',
      last_name: 'Nom',
      job_title: 'Fonction',
      company_name: 'Entreprise',
      phone_number: 'Téléphone',
      birthday: 'Anniversaire',
      birthday_month: 'Mois',
      birthday_day: 'Jour',
      anniversary: 'Date anniversaire',
      address: 'Adresse',
      street: 'Rue',
      city: 'Ville',
      state: 'Région',
      postal_code: 'Code postal',
      country: 'Pays',
    },
    errors: {
      unknown_form: 'Ce formulaire d’inscription n’existe pas.',
      origin_not_allowed: 'Ce formulaire ne peut pas être envoyé depuis ce site.',
      challenge_failed: 'La vérification anti-spam a échoué. Veuillez réessayer.',
      invalid_input: 'Certains champs sont à corriger. Veuillez les vérifier.',
      rate_limited: 'Trop d’inscriptions depuis votre réseau. Patientez une minute et réessayez.',
      delivery_failed: 'Votre inscription n’a pas pu aboutir. Réessayez plus tard.',
      unavailable:
        'Les inscriptions sont momentanément indisponibles. Réessayez dans quelques minutes.',
    },
    fields: {
      emailMissing: 'Saisissez votre adresse e-mail.',
      emailInvalid: 'Saisissez une adresse e-mail valide.',
      required: 'Remplissez ce champ.',
      notAllowed: 'Contient des caractères non autorisés.',
      unknownList: 'Liste inconnue.',
      chooseList: 'Choisissez au moins une liste.',
      consentRequired: 'Cochez la case pour donner votre consentement.',
      unknownField: 'Champ inconnu.',
      month: 'Saisissez un mois de 1 à 12.',
      day: 'Saisissez un jour de 1 à 31.',
      monthMissing: 'Saisissez aussi le mois de l’anniversaire.',
      dayMissing: 'Saisissez aussi le jour de l’anniversaire.',
      noSuchDay: 'Ce mois n’a pas autant de jours.',
      dateFormat: 'Saisissez une date comme 06/15/2020 ou 2020-06-15.',
      noSuchDate: 'Cette date n’existe pas.',
      tooLong: '{n} caractères au maximum.',
      trueFalse: 'Valeur attendue : true ou false.',
      number: 'Saisissez un nombre.',
      decimals: '{n} décimales au maximum.',
      wholeNumber: 'Saisissez un nombre entier.',
      negative: 'Saisissez un nombre positif ou nul.',
    },
  },
  es: {
    lang: 'es',
    success: '¡Gracias! Tu suscripción está registrada.',
    sending: 'Enviando…',
    network: 'No se pudo contactar con el servicio de suscripción. Inténtalo de nuevo.',
    thanks_title: '¡Gracias por suscribirte!',
    error_title: 'Suscripción no completada',
    back: 'Volver al sitio',
    email: 'Correo electrónico',
    subscribe: 'Suscribirse',
    lists_legend: 'Listas a las que unirte',
    privacy: 'Política de privacidad',
    owner_notified: 'Hemos avisado al responsable del sitio.',
    labels: {
      first_name: 'Nombre',
      last_name: 'Apellidos',
      job_title: 'Cargo',
      company_name: 'Empresa',
      phone_number: 'Teléfono',
      birthday: 'Cumpleaños',
      birthday_month: 'Mes',
      birthday_day: 'Día',
      anniversary: 'Aniversario',
      address: 'Dirección',
      street: 'Calle',
      city: 'Ciudad',
      state: 'Provincia o región',
      postal_code: 'Código postal',
      country: 'País',
    },
    errors: {
      unknown_form: 'Este formulario de suscripción no existe.',
      origin_not_allowed: 'Este formulario no se puede enviar desde este sitio.',
      challenge_failed: 'La comprobación antispam ha fallado. Inténtalo de nuevo.',
      invalid_input: 'Hay campos que corregir. Revísalos, por favor.',
      rate_limited: 'Demasiadas suscripciones desde tu red. Espera un minuto e inténtalo de nuevo.',
      delivery_failed: 'No hemos podido completar tu suscripción. Inténtalo más tarde.',
      unavailable: 'Las suscripciones no están disponibles ahora. Inténtalo en unos minutos.',
    },
    fields: {
      emailMissing: 'Introduce tu correo electrónico.',
      emailInvalid: 'Introduce un correo electrónico válido.',
      required: 'Rellena este campo.',
      notAllowed: 'Contiene caracteres no permitidos.',
      unknownList: 'Lista desconocida.',
      chooseList: 'Elige al menos una lista.',
      consentRequired: 'Marca la casilla para dar tu consentimiento.',
      unknownField: 'Campo desconocido.',
      month: 'Introduce un mes del 1 al 12.',
      day: 'Introduce un día del 1 al 31.',
      monthMissing: 'Introduce también el mes del cumpleaños.',
      dayMissing: 'Introduce también el día del cumpleaños.',
      noSuchDay: 'Ese mes no tiene tantos días.',
      dateFormat: 'Introduce una fecha como 06/15/2020 o 2020-06-15.',
      noSuchDate: 'Esa fecha no existe.',
      tooLong: 'Usa como máximo {n} caracteres.',
      trueFalse: 'Valor esperado: true o false.',
      number: 'Introduce un número.',
      decimals: 'Usa como máximo {n} decimales.',
      wholeNumber: 'Introduce un número entero.',
      negative: 'Introduce un número igual o mayor que cero.',
    },
  },
  de: {
    lang: 'de',
    success: 'Danke! Ihre Anmeldung ist eingegangen.',
    sending: 'Wird gesendet…',
    network: 'Der Anmeldedienst ist nicht erreichbar. Bitte versuchen Sie es erneut.',
    thanks_title: 'Danke für Ihre Anmeldung!',
    error_title: 'Anmeldung nicht abgeschlossen',
    back: 'Zurück zur Website',
    email: 'E-Mail-Adresse',
    subscribe: 'Anmelden',
    lists_legend: 'Listen zum Abonnieren',
    privacy: 'Datenschutzerklärung',
    owner_notified: 'Der Betreiber ist informiert.',
    labels: {
      first_name: 'Vorname',
      last_name: 'Nachname',
      job_title: 'Position',
      company_name: 'Firma',
      phone_number: 'Telefon',
      birthday: 'Geburtstag',
      birthday_month: 'Monat',
      birthday_day: 'Tag',
      anniversary: 'Jahrestag',
      address: 'Adresse',
      street: 'Straße',
      city: 'Ort',
      state: 'Bundesland oder Region',
      postal_code: 'Postleitzahl',
      country: 'Land',
    },
    errors: {
      unknown_form: 'Dieses Anmeldeformular gibt es nicht.',
      origin_not_allowed: 'Dieses Formular kann von dieser Website aus nicht gesendet werden.',
      challenge_failed: 'Die Spam-Prüfung ist fehlgeschlagen. Bitte versuchen Sie es erneut.',
      invalid_input: 'Einige Felder sind nicht korrekt. Bitte prüfen Sie sie.',
      rate_limited: 'Zu viele Anmeldungen aus Ihrem Netzwerk. Bitte warten Sie eine Minute.',
      delivery_failed:
        'Ihre Anmeldung konnte nicht abgeschlossen werden. Bitte versuchen Sie es später erneut.',
      unavailable:
        'Anmeldungen sind gerade nicht möglich. Bitte versuchen Sie es in ein paar Minuten.',
    },
    fields: {
      emailMissing: 'Geben Sie Ihre E-Mail-Adresse ein.',
      emailInvalid: 'Geben Sie eine gültige E-Mail-Adresse ein.',
      required: 'Füllen Sie dieses Feld aus.',
      notAllowed: 'Enthält nicht erlaubte Zeichen.',
      unknownList: 'Unbekannte Liste.',
      chooseList: 'Wählen Sie mindestens eine Liste.',
      consentRequired: 'Kreuzen Sie das Kästchen an, um Ihre Einwilligung zu geben.',
      unknownField: 'Unbekanntes Feld.',
      month: 'Geben Sie einen Monat von 1 bis 12 ein.',
      day: 'Geben Sie einen Tag von 1 bis 31 ein.',
      monthMissing: 'Geben Sie auch den Monat des Geburtstags ein.',
      dayMissing: 'Geben Sie auch den Tag des Geburtstags ein.',
      noSuchDay: 'Dieser Monat hat nicht so viele Tage.',
      dateFormat: 'Geben Sie ein Datum wie 06/15/2020 oder 2020-06-15 ein.',
      noSuchDate: 'Dieses Datum gibt es nicht.',
      tooLong: 'Höchstens {n} Zeichen.',
      trueFalse: 'Erwartet: true oder false.',
      number: 'Geben Sie eine Zahl ein.',
      decimals: 'Höchstens {n} Nachkommastellen.',
      wholeNumber: 'Geben Sie eine ganze Zahl ein.',
      negative: 'Geben Sie eine Zahl ab null ein.',
    },
  },
}

/** A field's label in the snippet: the profile's own (`labels`), else the built-in one. */
export function fieldLabel(
  text: VisitorText,
  own: Partial<Record<string, string>> | undefined,
  key: LabelKey
): string {
  return own?.[key] ?? (key === 'email' ? text.email : text.labels[key])
}

/**
 * The texts of a form (of no form: English), its owner's wording over the built-in language.
 * `ownerAlerted`: an alert channel is set, so a failed delivery's built-in text may say the owner
 * was told (an alert goes out for every dead letter; alert-webhook.ts).
 */
export function visitorText(
  profile?: {
    language?: Language
    messages?: Partial<Record<MessageKey, string>>
  },
  { ownerAlerted = false } = {}
): VisitorText {
  const base = BUILT_IN[profile?.language ?? 'en']
  const { success, sending, network, ...errors } = profile?.messages ?? {}
  const failed = base.errors.delivery_failed ?? DELIVERY_FAILED_EN
  return {
    ...base,
    success: success ?? base.success,
    sending: sending ?? base.sending,
    network: network ?? base.network,
    errors: {
      ...base.errors,
      delivery_failed: ownerAlerted ? `${failed} ${base.owner_notified}` : failed,
      ...errors,
    },
  }
}
