/**
 * @module
 * Hydration entry of the hosted preference page (built by vite into dist/pages/preferences.js with real
 * Preact; see build.ts). It reads the props the server serialised and hydrates the same component, so the
 * forms then save in place, without a page load.
 */
import { hydrate } from 'preact';
import { PROPS_ID } from './document-ids.ts';
import { PreferencesPage, type PreferencesPageProps } from './PreferencesPage.tsx';

const data = document.getElementById(PROPS_ID);
const root = document.getElementById('assenso-page');
if (data?.textContent && root) {
  hydrate(<PreferencesPage {...(JSON.parse(data.textContent) as PreferencesPageProps)} />, root);
}
