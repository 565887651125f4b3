/**
 * Where the batches of `n` examples start and how many each holds: the one
 * loop behind evaluation and prediction in batches.
 */
export function batchRanges(n: number, batchSize: number): Array<[start: number, size: number]> {
  const ranges: Array<[number, number]> = [];
  for (let start = 0; start < n; start += batchSize) ranges.push([start, Math.min(batchSize, n - start)]);
  return ranges;
}
