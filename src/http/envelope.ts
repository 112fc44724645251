import type { Envelope } from '../model/index.ts';

/** The market API's `{success, message, data}` envelope, as JSON text. */
export function envelopeJson(success: boolean, message: string, dataJson: string | null): string {
  return `{"success":${success},"message":${JSON.stringify(message)},"data":${dataJson ?? 'null'}}`;
}

export function errorBody(message: string): Envelope<null> {
  return { success: false, message, data: null };
}

export const JSON_TYPE = 'application/json; charset=utf-8';
