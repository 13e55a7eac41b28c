import type { ConsentController } from '../core/types.ts';

/** "Download my consent receipt": the receipts kept on this device, as a JSON file (preference center chunk). */
export async function downloadReceipts(controller: ConsentController, root: ShadowRoot): Promise<void> {
  const { siteId } = controller.config;
  const log = await controller.receipts();
  const json = JSON.stringify({ siteId, exportedAt: new Date().toISOString(), ...log }, null, 2);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  a.download = `consent-receipt-${siteId}.json`;
  root.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}
