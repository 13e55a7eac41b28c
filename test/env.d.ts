/** Vite hands a file imported with `?raw` over as its text (tests read the docs' samples this way). */
declare module '*.md?raw' {
  const text: string;
  export default text;
}
