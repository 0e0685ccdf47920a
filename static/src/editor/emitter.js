/**
 * A minimal event emitter (no DOM), so the connection runs in node tests.
 *
 * @module editor/emitter
 */

export class Emitter {
  constructor() {
    /** @type {Map<string, Set<Function>>} */
    this._handlers = new Map();
  }

  /**
   * Call ``handler`` on every ``event``; return a function that unsubscribes.
   * @param {string} event
   * @param {Function} handler
   */
  on(event, handler) {
    let handlers = this._handlers.get(event);
    if (!handlers) {
      handlers = new Set();
      this._handlers.set(event, handlers);
    }
    handlers.add(handler);
    const added = handlers;
    return () => added.delete(handler);
  }

  /**
   * Call the handlers of ``event`` with ``args``. A throwing handler is
   * reported and does not stop the others.
   * @param {string} event
   * @param {...any} args
   */
  emit(event, ...args) {
    const handlers = this._handlers.get(event);
    if (!handlers) return;
    for (const handler of [...handlers]) {
      try {
        handler(...args);
      } catch (err) {
        console.error(`collabdocs: ${event} handler failed`, err);
      }
    }
  }
}
