/**
 * @module core/consent/consent-pages
 * The dashboard's line about a form's consent receipts: how many are kept, and the export.
 */
export function ConsentReceipts({ formId, count }: { formId: string; count: number }) {
  const receipts = count === 1 ? '1 consent receipt' : `${count} consent receipts`
  return (
    <p data-consent-receipts={count}>
      {receipts} kept for {formId}.{' '}
      <a href="/admin/api/consents.csv">Download every form's consent receipts (CSV)</a>
    </p>
  )
}
