import type { NoticeCategory } from '../protocol/notice.ts';
import type { Draft } from './PreferenceCenter.tsx';

/**
 * The preference center's switches before Save. A category switch sets all its services; a service switch
 * sets that service alone: the category's own consent (what is gated by the category, not by one of its
 * services) is given by its switch only, never implied by one service's (an "Allow YouTube" on a placeholder
 * shows YouTube on and Marketing off, and switching YouTube off and on again leaves Marketing off). Required
 * ones are always on.
 * Nothing optional starts on without an earlier choice (no pre-ticked boxes), nor when it is in `off`: the
 * categories that Global Privacy Control denies now, whatever was chosen before (else Save would grant them).
 */
export function initialDraft(categories: NoticeCategory[], from: Draft | null, off: string[] = []): Draft {
  const draft: Draft = { categories: {}, services: {} };
  for (const c of categories) {
    const f = off.includes(c.id) ? null : from;
    const on = c.required || f?.categories[c.id] === true;
    draft.categories[c.id] = on;
    for (const s of c.services) draft.services[s.id] = c.required || (f?.services[s.id] ?? on);
  }
  return draft;
}

export function toggleCategory(draft: Draft, category: NoticeCategory, on: boolean): Draft {
  if (category.required) return draft;
  const services = { ...draft.services };
  for (const s of category.services) services[s.id] = on;
  return { categories: { ...draft.categories, [category.id]: on }, services };
}

/**
 * Switching off the last service of a category left on switches the category off too: the visitor refused
 * every service they were shown, and Save kept granting the category (what is gated by it, and Consent Mode's
 * ad_* for marketing).
 */
export function toggleService(draft: Draft, category: NoticeCategory, serviceId: string, on: boolean): Draft {
  if (category.required) return draft;
  const services = { ...draft.services, [serviceId]: on };
  const none = !on && category.services.every((s) => !services[s.id]);
  return { categories: none ? { ...draft.categories, [category.id]: false } : draft.categories, services };
}
