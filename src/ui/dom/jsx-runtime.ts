/**
 * The JSX factory of the shipped widget. The components are plain Preact-compatible function components
 * (props in, callbacks out, no hooks), so the widget bundle does not need Preact's diffing engine: the build
 * aliases `preact/jsx-runtime` to this file and `render.ts` patches the DOM. Tests and the server-rendered
 * preference page use real Preact with the very same components. The vnode shape (`type`, `props`) is
 * Preact's, so `render.ts` also renders vnodes made by Preact's own factory (which the tests rely on).
 */
import type { ComponentChildren } from 'preact';

export interface DomVNode {
  type: string | ((props: Record<string, unknown>) => ComponentChildren);
  props: Record<string, unknown> & { children?: ComponentChildren };
}

export function jsx(type: DomVNode['type'], props: DomVNode['props']): DomVNode {
  return { type, props };
}

export const jsxs = jsx;

export function Fragment(props: { children?: ComponentChildren }): ComponentChildren {
  return props.children;
}
