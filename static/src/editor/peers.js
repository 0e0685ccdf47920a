/**
 * Who else is on the document, and where their cursors are.
 *
 * Ranges are stored as the server sent them (at a server revision) and are
 * brought to the local document on demand through the OT client, which knows
 * the recent server ops and the local pending ops. A range brought forward is
 * cached at the new revision so each server op is crossed once.
 *
 * Who is here is the server's word alone: a ``hello`` replaces everyone
 * (its ``peers`` are the sockets attached now), ``join`` and ``leave``
 * follow, and nobody is known to be here while there is no socket
 * ({@link Peers#reset} with nothing when the socket goes: people who leave
 * while the server is down sent no ``leave`` anyone could hear). Each
 * person's colour, as the server sent it, is recorded in
 * {@link peopleColors} for the rest of the page.
 *
 * @module editor/peers
 */
import { UNKNOWN_COLOR, peopleColors } from "./colors.js";

/** @typedef {{id: number, name: string, color: string}} User */
/** @typedef {{index: number, length: number}} Range */
/**
 * @typedef {Object} Peer
 * @property {string} session
 * @property {User} user
 * @property {Range|null} range  server coordinates at ``rev``
 * @property {number|null} rev
 */

export class Peers {
  constructor() {
    /** @type {Map<string, Peer>} */
    this.bySession = new Map();
  }

  /**
   * Replace everyone with the ``peers`` of a ``hello``.
   * @param {Array<{session: string, user: User, range?: Range|null}>} peers
   * @param {number} rev
   */
  reset(peers, rev) {
    this.bySession.clear();
    for (const p of peers || []) {
      peopleColors.learn(p.user);
      this.bySession.set(p.session, {
        session: p.session,
        user: p.user,
        range: p.range || null,
        rev: p.range ? rev : null,
      });
    }
  }

  /**
   * Add someone who joined.
   * @param {string} session
   * @param {User} user
   */
  join(session, user) {
    peopleColors.learn(user);
    const known = this.bySession.get(session);
    this.bySession.set(session, { session, user, range: known?.range ?? null, rev: known?.rev ?? null });
  }

  /** @param {string} session */
  leave(session) {
    this.bySession.delete(session);
  }

  /**
   * Record a ``presence`` message.
   * @param {string} session
   * @param {User|undefined} user
   * @param {Range|null} range
   * @param {number} rev
   */
  presence(session, user, range, rev) {
    peopleColors.learn(user);
    const known = this.bySession.get(session);
    this.bySession.set(session, {
      session,
      user: user || known?.user || { id: 0, name: "Someone", color: UNKNOWN_COLOR },
      range: range || null,
      rev: range ? rev : null,
    });
  }

  /** @returns {Peer[]} everyone, in arrival order */
  list() {
    return [...this.bySession.values()];
  }

  /**
   * Return each peer's range in the local document (null when unknown or
   * too old to bring forward).
   *
   * @param {import("./ot-client.js").OTClient} client
   * @returns {Array<{session: string, user: User, range: Range|null}>}
   */
  localRanges(client) {
    const out = [];
    for (const peer of this.bySession.values()) {
      let range = null;
      if (peer.range && peer.rev !== null) {
        const current = client.rebaseRange(peer.range, peer.rev);
        if (!current && client.revision !== null && peer.rev < client.revision) {
          peer.range = null; // older than the ops still remembered: forget it
          peer.rev = null;
        } else if (current) {
          peer.range = current; // cache at the current revision
          peer.rev = client.revision;
          range = client.toLocalRange(current);
        }
      }
      out.push({ session: peer.session, user: peer.user, range });
    }
    return out;
  }
}
