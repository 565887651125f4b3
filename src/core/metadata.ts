/**
 * The keys under which the notebook's outputs keep data for the tools that
 * read them back, so none of them parses text: scripts/run_notebook.py (which
 * mirrors PROGRESS_METADATA, being Python) and npm run check.
 */
/** On a progress output: how many of its lines are finished, and whether one is running. */
export const PROGRESS_METADATA = "deep_convolution/progress";
/** On a table's output: its index, columns and values as JSON. */
export const TABLE_METADATA = "deep_convolution/table";
