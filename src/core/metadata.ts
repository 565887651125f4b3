/**
 * The keys under which the notebook's outputs keep data for the tools that
 * read them back, so none of them parses text: scripts/run_notebook.py (which
 * mirrors PROGRESS_METADATA and KERNELS_METADATA, being Python) and npm run check.
 */
/** On a progress output: how many of its lines are finished, and whether one is running. */
export const PROGRESS_METADATA = "deep_convolution/progress";
/** On a table's output: its index, columns and values as JSON. */
export const TABLE_METADATA = "deep_convolution/table";
/** On a fit's progress output, once an epoch ends: the kernel chosen for each op and shape so far (engine/tuner.ts). */
export const KERNELS_METADATA = "deep_convolution/kernels";
