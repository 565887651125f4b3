/**
 * Rules about a model's arguments that hold wherever they are given (a layer,
 * buildConvNet, the notebook's parameters). Kept apart from layers.ts so that
 * checking parameters loads no TensorFlow.
 */
import { UserError } from "../core/errors";

export const DROPOUT_RATE_RULE = "a number from 0 (no dropout) up to, not including, 1";
export const isDropoutRate = (rate: unknown): rate is number => typeof rate === "number" && rate >= 0 && rate < 1;

export function checkDropoutRate(what: string, rate: unknown): void {
  if (!isDropoutRate(rate)) throw new UserError(`${what} must be ${DROPOUT_RATE_RULE}; got ${String(rate)}.`);
}
