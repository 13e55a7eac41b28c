/** Id of the data block carrying the props of a hydrated page (shared by document.tsx and client.tsx). */
export const PROPS_ID = 'assenso-page-props';
