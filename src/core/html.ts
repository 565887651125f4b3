/**
 * Text into HTML: the characters that would otherwise start markup or end an
 * attribute, as entities. Used by the tables and by the PDF's footer.
 */
const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
