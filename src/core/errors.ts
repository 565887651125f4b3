/**
 * Errors a user can fix (a bad parameter, a wrong data folder). Their message
 * says what is wrong and what to do; the notebook shows just that, without a
 * stack trace into the helpers.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
    this.stack = `${this.name}: ${message}`;
  }
}
