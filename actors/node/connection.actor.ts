// Watches the NATS connection for the node: logs each transition once, measures time spent
// disconnected, and keeps the status for actors that start later. The connection itself is owned
// by the transport (it reconnects forever on its own); this actor only observes it.
import type { Logger } from "pino";
import type { Gauge, Registry } from "prom-client";
import { gauge } from "../../observability/metrics.js";
import type { Behaviour } from "../../supervisors/index.js";
import type { Transport, ConnStatus } from "../../transport/index.js";

type ConnectionMsg = { readonly type: "status"; readonly status: ConnStatus };

interface ConnectionState {
  readonly last: ConnStatus;
  readonly unsubscribe: () => void;
}

export function connectionBehaviour(transport: Transport, logger: Logger, metrics: Registry): Behaviour<ConnectionState, ConnectionMsg> {
  const downSince = downGauge(metrics);
  return {
    init(ctx) {
      const unsubscribe = transport.onStatus((status) => ctx.self.tell({ type: "status", status }));
      return { last: transport.status(), unsubscribe };
    },
    handle(state, msg) {
      const { status } = msg;
      if (status.state === state.last.state && status.server === state.last.server) return state;
      const fields = { state: status.state, server: status.server, previous: state.last.state };
      if (status.state === "connected") {
        const downMs = state.last.state === "connected" ? 0 : status.since - state.last.since;
        logger.info({ ...fields, downMs }, "nats connected");
        downSince.set(0);
      } else {
        logger.warn(fields, `nats ${status.state}`);
        downSince.set(status.since / 1000);
      }
      return { ...state, last: status };
    },
    terminate(state) {
      state.unsubscribe();
    },
  };
}

function downGauge(registry: Registry): Gauge {
  return gauge(registry, "dcnet_node_nats_down_since_seconds", "Unix time the NATS connection was lost; 0 while connected");
}
