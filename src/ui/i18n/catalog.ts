import { en } from './en.ts';
import { it } from './it.ts';
import type { Messages } from './messages.ts';

/** The catalogs that ship with the banner; German, French and Spanish are fetched when chosen. */
export const BUILT_IN: Record<string, Messages> = { it, en };
