/**
 * @module core/forms/editor-styles
 * The form editor's CSS, appended to the owner pages' stylesheet (ui/layout.tsx). Apart from
 * form-pages.tsx, which renders through the layout: the layout imports this, not the pages.
 * Two columns from 1024 px, the preview beside the fields and kept in view; one column below.
 */
export const EDITOR_STYLES = `
main:has(.editor-layout) { max-width: 80rem; }
.editor-layout { display: grid; gap: 0 1.5rem; }
.editor-layout > * { min-width: 0; }
@media (min-width: 1024px) {
  .editor-layout { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); align-items: start; }
  .preview-pane { position: sticky; top: 0; max-height: 100vh; overflow-y: auto; }
}
details.section { border: 1px solid #8884; border-radius: .4rem; margin: 1rem 0; padding: .25rem .75rem; }
details.section > summary { font-weight: 600; }
details > summary { cursor: pointer; padding: .25rem 0; }
.field-row details { margin-left: 1rem; }
.editor select { max-width: 100%; }
.field-row > details > summary { font-size: .9rem; }
.field-row.standard { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 0 .75rem; align-items: center; margin: .4rem 0; }
.field-row.standard > details { grid-column: 1 / -1; }
.field-row.standard select { width: auto; }
.preview-pane pre { white-space: pre-wrap; overflow-wrap: anywhere; }
`
