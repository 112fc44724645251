import type { Envelope } from '../model/index.ts';

export function errorBody(message: string): Envelope<null> {
  return { success: false, message, data: null };
}

export const JSON_TYPE = 'application/json; charset=utf-8';
