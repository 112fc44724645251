import { envelopeJson, envelopePrefix, OK_MESSAGE, type Envelope } from '../model/index.ts';

export function errorBody(message: string): Envelope<null> {
  return { success: false, message, data: null };
}

export const JSON_TYPE = 'application/json; charset=utf-8';

/** A store answer's JSON as text (a filtered /state crosses as its whole body, in bytes: QueryAnswer.json). */
export function answerText(json: string | ArrayBuffer): string {
  return typeof json === 'string' ? json : Buffer.from(json).toString('utf8', OK_PREFIX_BYTES, json.byteLength - 1);
}

/**
 * The success envelope around a store answer's JSON, as the bytes sent. An answer in bytes is sent as it came:
 * the store wrote its envelope, with OK_MESSAGE (another message is a caller's mistake, not silently dropped).
 */
export function envelopeBytes(message: string, json: string | ArrayBuffer): Buffer {
  if (typeof json === 'string') return Buffer.from(envelopeJson(true, message, json));
  if (message !== OK_MESSAGE) throw new Error(`a store answer in bytes carries "${OK_MESSAGE}", not "${message}"`);
  return Buffer.from(json);
}

/** the length of the envelope before the data of a success answer (what the store writes before a body's JSON) */
export const OK_PREFIX_BYTES = Buffer.byteLength(envelopePrefix(true, OK_MESSAGE));
