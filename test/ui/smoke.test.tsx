import { render, screen } from '@testing-library/preact';
import { expect, it } from 'vitest';
import { get, set } from 'idb-keyval';

it('renders preact in real chromium with indexeddb', async () => {
  render(<button type="button">Accetta tutti</button>);
  expect(screen.getByRole('button', { name: 'Accetta tutti' })).toBeTruthy();
  await set('k', 1);
  expect(await get('k')).toBe(1);
  expect(navigator.userAgent).toContain('Chrome');
});
