/**
 * What the script tag's `chunks/identity.js` holds (vite.config.ts): identity linking, and the email-link
 * exchange that builds on it. identity-attach.ts loads it only when one of them is needed.
 */
export { openEmailLink } from './email-link.ts';
export { createIdentity } from './identity.ts';
