import { type Server, type Socket, connect, createServer } from 'node:net';
import { type Cidr, InvalidArgumentError, cidrContains, parseCidr } from '@steppe/shared';

/**
 * The path from the lab's simulated networks to the collector, which sits
 * "abroad". The lab's censor acts on the lab's own servers (resolver, web
 * sites) but the collector is not one of them: without this relay a shut-down
 * network would still reach the collector, its probes would upload on time
 * and their control requests would succeed — a shutdown the collector could
 * never see. So probes talk to the collector (uplink and control alike)
 * through this TCP relay, which can cut a whole network or a single source
 * address:
 *
 * - `drop`: every packet is lost. New connections are accepted and held
 *   silent; open ones stop moving in both directions. When the cut ends,
 *   held connections go through and stalled ones resume — as TCP does when
 *   a route comes back while the peers are still retransmitting.
 * - `reset`: open connections are reset and new ones refused at once, as a
 *   host without a route sees it (connect fails immediately).
 *
 * Each relayed connection leaves from the probe's own source address, so the
 * collector still derives the probe's network from it (`--networks`).
 * Only loopback sources and a loopback collector are accepted.
 */

/** What can be cut: a lab network (by id) or one source address. */
export type CutTarget = { readonly network: string } | { readonly address: string };

/** A network the gateway knows sources of. */
export interface GatewayNetwork {
  readonly id: string;
  readonly cidr: string;
}

/** Options of {@link NetworkGateway.start}. */
export interface GatewayOptions {
  /** Loopback address to listen on. */
  readonly host: string;
  /** The collector. */
  readonly upstream: { readonly host: string; readonly port: number };
  readonly networks: readonly GatewayNetwork[];
}

type CutMode = 'drop' | 'reset';

interface Relay {
  readonly source: string;
  readonly network: string | undefined;
  readonly client: Socket;
  upstream: Socket | undefined;
  held: boolean;
  /** A side closed while the relay was held: applied when it is released. */
  closedWhileHeld: boolean;
}

const LOOPBACK = parseCidr('127.0.0.0/8');

function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/, '');
}

/** A TCP relay to the collector that can drop or reset traffic per network or source. */
export class NetworkGateway {
  readonly #server: Server;
  readonly #options: GatewayOptions;
  readonly #networks: readonly { readonly id: string; readonly cidr: Cidr }[];
  readonly #relays = new Set<Relay>();
  readonly #networkCuts = new Map<string, CutMode>();
  readonly #addressCuts = new Map<string, CutMode>();
  #port = 0;

  private constructor(options: GatewayOptions) {
    this.#options = options;
    this.#networks = options.networks.map((n) => ({ id: n.id, cidr: parseCidr(n.cidr) }));
    this.#server = createServer((socket) => this.#accept(socket));
  }

  /** Listen on `options.host` (any free port). */
  static async start(options: GatewayOptions): Promise<NetworkGateway> {
    for (const [what, host] of [['host', options.host], ['upstream.host', options.upstream.host]] as const) {
      if (!cidrContains(LOOPBACK, host)) throw new InvalidArgumentError(`gateway ${what}: ${host} is not a loopback address (127.0.0.0/8)`);
    }
    const gateway = new NetworkGateway(options);
    await new Promise<void>((resolve, reject) => {
      gateway.#server.once('error', reject);
      gateway.#server.listen({ host: options.host, port: 0 }, () => {
        gateway.#server.off('error', reject);
        resolve();
      });
    });
    const address = gateway.#server.address();
    gateway.#port = typeof address === 'object' && address !== null ? address.port : 0;
    return gateway;
  }

  /** Base URL through which probes reach the collector. */
  get url(): string {
    return `http://${this.#options.host}:${this.#port}`;
  }

  /** Connections currently relayed or held. */
  get connections(): number {
    return this.#relays.size;
  }

  /** Start cutting a network or a source address. */
  cut(target: CutTarget, mode: CutMode): void {
    if ('network' in target) {
      if (!this.#networks.some((n) => n.id === target.network)) throw new InvalidArgumentError(`gateway: unknown network ${target.network}`);
      this.#networkCuts.set(target.network, mode);
    } else {
      this.#addressCuts.set(target.address, mode);
    }
    for (const relay of [...this.#relays]) {
      const cut = this.#cutOf(relay.source, relay.network);
      if (cut === 'reset') this.#reset(relay);
      else if (cut === 'drop') this.#hold(relay);
    }
  }

  /** Stop cutting; held connections go through. */
  restore(target: CutTarget): void {
    if ('network' in target) this.#networkCuts.delete(target.network);
    else this.#addressCuts.delete(target.address);
    for (const relay of [...this.#relays]) {
      if (relay.held && this.#cutOf(relay.source, relay.network) === undefined) this.#release(relay);
    }
  }

  /** Stop listening and drop every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const relay of this.#relays) {
      relay.client.destroy();
      relay.upstream?.destroy();
    }
    this.#relays.clear();
    await closed;
  }

  #networkOf(source: string): string | undefined {
    return this.#networks.find((n) => cidrContains(n.cidr, source))?.id;
  }

  #cutOf(source: string, network: string | undefined): CutMode | undefined {
    return this.#addressCuts.get(source) ?? (network === undefined ? undefined : this.#networkCuts.get(network));
  }

  #accept(client: Socket): void {
    const source = plainAddress(client.remoteAddress);
    client.on('error', () => undefined);
    if (!cidrContains(LOOPBACK, source)) {
      client.destroy();
      return;
    }
    const network = this.#networkOf(source);
    const cut = this.#cutOf(source, network);
    if (cut === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const relay: Relay = { source, network, client, upstream: undefined, held: false, closedWhileHeld: false };
    this.#relays.add(relay);
    client.on('close', () => {
      if (relay.held) relay.closedWhileHeld = true;
      else this.#drop(relay);
    });
    if (cut === 'drop') this.#hold(relay);
    else this.#connectUpstream(relay);
  }

  #connectUpstream(relay: Relay): void {
    const upstream = connect({ host: this.#options.upstream.host, port: this.#options.upstream.port, localAddress: relay.source });
    relay.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('close', () => {
      if (relay.held) relay.closedWhileHeld = true;
      else this.#drop(relay);
    });
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (!to.write(chunk)) from.pause();
      });
      to.on('drain', () => {
        if (!relay.held) from.resume();
      });
      from.on('end', () => to.end());
    };
    forward(relay.client, upstream);
    forward(upstream, relay.client);
  }

  #hold(relay: Relay): void {
    relay.held = true;
    relay.client.pause();
    relay.upstream?.pause();
  }

  #release(relay: Relay): void {
    relay.held = false;
    if (relay.closedWhileHeld) {
      this.#drop(relay);
      return;
    }
    if (relay.upstream === undefined) {
      this.#connectUpstream(relay);
    }
    relay.client.resume();
    relay.upstream?.resume();
  }

  #reset(relay: Relay): void {
    this.#relays.delete(relay);
    if (!relay.client.destroyed) relay.client.resetAndDestroy();
    relay.upstream?.destroy();
  }

  #drop(relay: Relay): void {
    this.#relays.delete(relay);
    relay.client.destroy();
    relay.upstream?.destroy();
  }
}
