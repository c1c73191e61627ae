// Regtest administration over lnd's REST API: on-chain coins, peers, channels, forwarding history. Only the
// scripts that build the regtest network and the tests use it; the product's LndRest keeps invoices and payments.
import { arr, bool, LndError, LndRest, num, obj, str } from '../../server/lightning/lnd-rest.ts';

export interface ForwardingEvent {
  timestampSec: number;
  amtInMsat: number;
  amtOutMsat: number;
  feeMsat: number;
}

export interface LndChannel {
  chanId: string;
  remotePubkey: string;
  capacitySat: number;
  localSat: number;
  remoteSat: number;
  active: boolean;
}

/** {@link LndRest} plus what only a regtest network needs. */
export class LndAdmin extends LndRest {
  async walletBalance(): Promise<{ confirmedSat: number; unconfirmedSat: number }> {
    const o = await this.call('GET', '/v1/balance/blockchain');
    return { confirmedSat: num(o, 'confirmed_balance'), unconfirmedSat: num(o, 'unconfirmed_balance') };
  }

  async newAddress(): Promise<string> {
    return str(await this.call('GET', '/v1/newaddress?type=WITNESS_PUBKEY_HASH'), 'address');
  }

  /** On-chain send; returns the txid. */
  async sendCoins(addr: string, amountSat: number): Promise<string> {
    return str(await this.call('POST', '/v1/transactions', { addr, amount: String(amountSat) }), 'txid');
  }

  /** Connects to a peer; "already connected" counts as success. */
  async connectPeer(pubkey: string, host: string): Promise<void> {
    try {
      await this.call('POST', '/v1/peers', { addr: { pubkey, host }, perm: false });
    } catch (e) {
      if (e instanceof LndError && /already connected/i.test(e.message)) return;
      throw e;
    }
  }

  async listPeers(): Promise<string[]> {
    return arr(await this.call('GET', '/v1/peers'), 'peers').map((p) => str(obj(p, 'peer'), 'pub_key'));
  }

  async openChannel(a: { nodePubkeyHex: string; localFundingSat: number; pushSat?: number }): Promise<void> {
    await this.call('POST', '/v1/channels', {
      node_pubkey: Buffer.from(a.nodePubkeyHex, 'hex').toString('base64'),
      local_funding_amount: String(a.localFundingSat),
      push_sat: String(a.pushSat ?? 0),
      spend_unconfirmed: false,
    });
  }

  async listChannels(activeOnly = false): Promise<LndChannel[]> {
    const o = await this.call('GET', `/v1/channels${activeOnly ? '?active_only=true' : ''}`);
    return arr(o, 'channels').map((c) => {
      const ch = obj(c, 'channel');
      return {
        chanId: str(ch, 'chan_id'),
        remotePubkey: str(ch, 'remote_pubkey'),
        capacitySat: num(ch, 'capacity'),
        localSat: num(ch, 'local_balance'),
        remoteSat: num(ch, 'remote_balance'),
        active: bool(ch, 'active'),
      };
    });
  }

  async pendingChannelCount(): Promise<number> {
    const o = await this.call('GET', '/v1/channels/pending');
    return arr(o, 'pending_open_channels').length;
  }

  /** Payments this node forwarded as a hop (all time). */
  async forwardingHistory(max = 1000): Promise<ForwardingEvent[]> {
    const o = await this.call('POST', '/v1/switch', {
      start_time: '0',
      end_time: String(Math.floor(Date.now() / 1000) + 3600),
      num_max_events: max,
    });
    return arr(o, 'forwarding_events').map((f) => {
      const e = obj(f, 'forwarding_event');
      return {
        timestampSec: num(e, 'timestamp'),
        amtInMsat: num(e, 'amt_in_msat'),
        amtOutMsat: num(e, 'amt_out_msat'),
        feeMsat: num(e, 'fee_msat'),
      };
    });
  }
}
